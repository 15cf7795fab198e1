"""The Cypher the Neo4j exporter runs: schema on first use, then one ``UNWIND $rows`` MERGE per kind of row.

Every write is a MERGE on the node's key followed by ``SET``s computed from the whole verified record, so running
a statement twice with the same rows leaves the graph as it was.  Lists that grow across imports (key ids, paths)
are merged as sets; a dataset's ``timestamp`` keeps the earliest time it was seen.  Times arrive as driver
``DateTime`` values (converted by the exporter), so they are stored as Neo4j ``datetime``.
"""

from __future__ import annotations

#: Uniqueness constraints of the older importer, plus provlineage's own node keys.  IF NOT EXISTS: first use only.
SCHEMA = (
    "CREATE CONSTRAINT provlineage_dataset_hash IF NOT EXISTS FOR (d:Dataset) REQUIRE d.hash IS UNIQUE",
    "CREATE CONSTRAINT provlineage_model_name_commit IF NOT EXISTS FOR (m:Model) REQUIRE (m.name, m.commit) IS UNIQUE",
    "CREATE CONSTRAINT provlineage_inference_id IF NOT EXISTS FOR (i:Inference) REQUIRE i.id IS UNIQUE",
    "CREATE CONSTRAINT provlineage_run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.runId IS UNIQUE",
    "CREATE CONSTRAINT provlineage_job_key IF NOT EXISTS FOR (j:Job) REQUIRE (j.namespace, j.name) IS UNIQUE",
    "CREATE CONSTRAINT provlineage_environment_id IF NOT EXISTS FOR (e:Environment) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT provlineage_metric_id IF NOT EXISTS FOR (m:Metric) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT provlineage_import_stream IF NOT EXISTS FOR (w:ProvlineageImport) REQUIRE w.stream IS UNIQUE",
    "CREATE INDEX provlineage_dataset_path IF NOT EXISTS FOR (d:Dataset) ON (d.path)",
    "CREATE INDEX provlineage_model_digest IF NOT EXISTS FOR (m:Model) ON (m.digest)",
)

_UNION = "reduce(acc = coalesce({old}, []), k IN {new} | CASE WHEN k IN acc THEN acc ELSE acc + k END)"

JOBS = """
UNWIND $rows AS row
MERGE (j:Job {namespace: row.namespace, name: row.name})
SET j.verified = true
"""

RUNS = """
UNWIND $rows AS row
MERGE (r:Run {runId: row.runId})
SET r += row.props
WITH r, row
MATCH (j:Job {namespace: row.jobNamespace, name: row.jobName})
MERGE (r)-[:OF_JOB]->(j)
"""

PARENTS = """
UNWIND $rows AS row
MATCH (r:Run {runId: row.runId}), (p:Run {runId: row.parentRunId})
MERGE (r)-[:CHILD_OF]->(p)
"""

ENVIRONMENTS = """
UNWIND $rows AS row
MERGE (e:Environment {id: row.id})
SET e += row.props
WITH e, row
UNWIND row.runIds AS runId
MATCH (r:Run {runId: runId})
MERGE (r)-[:RAN_IN]->(e)
"""

DATASETS = f"""
UNWIND $rows AS row
MERGE (d:Dataset {{hash: row.hash}})
ON CREATE SET d.path = row.path
SET d += row.props,
    d.paths = {_UNION.format(old="d.paths", new="row.paths")},
    d.keyIds = {_UNION.format(old="d.keyIds", new="row.keyIds")},
    d.timestamp = CASE
        WHEN row.timestamp IS NULL THEN d.timestamp
        WHEN d.timestamp IS NULL OR row.timestamp < d.timestamp THEN row.timestamp
        ELSE d.timestamp END
"""

MODELS = f"""
UNWIND $rows AS row
MERGE (m:Model {{name: row.name, commit: row.commit}})
SET m += row.props,
    m.keyIds = {_UNION.format(old="m.keyIds", new="row.keyIds")}
"""

RUN_DATASETS = """
UNWIND $rows AS row
MATCH (r:Run {runId: row.runId}), (d:Dataset {hash: row.hash})
FOREACH (_ IN CASE WHEN row.relation = 'READ' THEN [1] ELSE [] END | MERGE (r)-[:READ]->(d))
FOREACH (_ IN CASE WHEN row.relation = 'WROTE' THEN [1] ELSE [] END | MERGE (r)-[:WROTE]->(d))
"""

RUN_MODELS = """
UNWIND $rows AS row
MATCH (r:Run {runId: row.runId}), (m:Model {name: row.name, commit: row.commit})
FOREACH (_ IN CASE WHEN row.relation = 'READ' THEN [1] ELSE [] END | MERGE (r)-[:READ]->(m))
FOREACH (_ IN CASE WHEN row.relation = 'WROTE' THEN [1] ELSE [] END | MERGE (r)-[:WROTE]->(m))
"""

USED_IN = """
UNWIND $rows AS row
MATCH (d:Dataset {hash: row.hash}), (m:Model {name: row.name, commit: row.commit})
MERGE (d)-[:USED_IN]->(m)
"""

EVALUATED_ON = """
UNWIND $rows AS row
MATCH (d:Dataset {hash: row.hash}), (m:Model {name: row.name, commit: row.commit})
MERGE (m)-[:EVALUATED_ON]->(d)
"""

METRICS = """
UNWIND $rows AS row
MERGE (x:Metric {id: row.id})
SET x += row.props
WITH x, row
MATCH (r:Run {runId: row.runId})
MERGE (r)-[:MEASURED]->(x)
WITH x, row
WHERE row.datasetHash IS NOT NULL
MATCH (d:Dataset {hash: row.datasetHash})
MERGE (x)-[:ON]->(d)
"""

INFERENCES = f"""
UNWIND $rows AS row
MERGE (i:Inference {{id: row.id}})
SET i += row.props,
    i.keyIds = {_UNION.format(old="i.keyIds", new="row.keyIds")}
WITH i, row
MATCH (r:Run {{runId: row.runId}})
MERGE (r)-[:RECORDED]->(i)
WITH i, row
UNWIND row.models AS key
MATCH (m:Model {{name: key.name, commit: key.commit}})
MERGE (m)-[:GENERATED]->(i)
"""

READ_MARKS = "MATCH (w:ProvlineageImport) RETURN w.stream AS stream, w.sequence AS sequence, w.digest AS digest"

WRITE_MARKS = """
UNWIND $rows AS row
MERGE (w:ProvlineageImport {stream: row.stream})
SET w.sequence = row.sequence, w.digest = row.digest
"""

#: (GraphRows attribute, statement), in the order that lets every MATCH find what it links.
WRITES = (
    ("jobs", JOBS),
    ("runs", RUNS),
    ("parents", PARENTS),
    ("environments", ENVIRONMENTS),
    ("datasets", DATASETS),
    ("models", MODELS),
    ("run_datasets", RUN_DATASETS),
    ("run_models", RUN_MODELS),
    ("used_in", USED_IN),
    ("evaluated_on", EVALUATED_ON),
    ("metrics", METRICS),
)
