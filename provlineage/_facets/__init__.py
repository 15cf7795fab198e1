"""The facet classes, one module per facet; :mod:`provlineage.facets` is their public face.

Defining an attrs class costs about a millisecond, and an Airflow task that provlineage does not recognise
needs only the environment facet, so each class is defined when it is first asked for.
"""
