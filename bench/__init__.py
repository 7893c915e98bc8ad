"""`make bench`: obshub beside its peers, in one run on one machine.

Runs (`make bench`): `obshub_connector`, `obshub_end_to_end`,
`kafka_transport`, `duckdb_groupby`, `naive_per_record`, on one generated
`caf.allocataires` extract, against a private stack on free ports. The
results go to `bench/results/latest.json`; see bench/README.md.

The bench is a tool, not a product package: it may import every obshub
package (it plays the partner, the hub operator and the analyst at once),
and nothing imports it.
"""
