"""``--inference``: one prediction back to the data, with the Merkle proof tying it to its run's signed root."""

from __future__ import annotations

from provlineage import facets as pf
from provlineage.lineage.answers import Answer, InferenceAnswer, InferenceView, make_answer
from provlineage.lineage.graph import Lineage
from provlineage.lineage.model_query import model_scope
from provlineage.lineage.views import Caveat, model_view, run_view


def ask_inference(lineage: Lineage, inference_id: str, extra_logs: list[str] | None = None) -> Answer:
    """Find the verified run whose inference log holds ``inference_id`` and prove it against the signed root.

    ``extra_logs`` are inference logs to search besides the ones the runs' facets name (e.g. moved copies).
    """
    from provlineage.lineage.inference_chain import locate_inference

    located = locate_inference(lineage, inference_id, extra_logs)
    run = located.run
    versions = [m for key in run.inputs for m in lineage.version_read_by(run, key)]
    models = [model_view(lineage, version) for version in versions]
    facet = run.facet(pf.INFERENCE) or {}
    view = InferenceView(
        inference_id=inference_id,
        run=run_view(lineage, run, "inference"),
        record=located.record,
        proof=located.proof,
        merkle_root=facet.get("merkleRoot") if isinstance(facet.get("merkleRoot"), str) else None,
        proof_verified=located.verified,
        log=located.log,
        models=models,
    )
    scope = {run.run_id, *model_scope(lineage, versions)}
    answer = make_answer("inference", inference_id, lineage, InferenceAnswer(view), scope)
    if not located.verified:
        answer.caveats.insert(
            0,
            Caveat(
                "inclusion-proof", f"the inclusion proof of {inference_id} does not match the run's signed Merkle root"
            ),
        )
    return answer
