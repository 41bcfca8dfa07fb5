"""The bundled gene catalogue, pathway gene sets and interaction network are consistent with each other."""

from __future__ import annotations

import networkx as nx

from oncorisk.resources import resource_path
from oncorisk.simulate.genome import load_catalogue
from oncorisk.simulate.sequence import GENETIC_CODE


def _gmt():
    sets = {}
    for line in resource_path("pathways", "oncogenic_pathways.gmt").read_text().splitlines():
        name, _desc, *genes = line.split("\t")
        sets[name] = genes
    return sets


def _network():
    rows = [line.split("\t") for line in resource_path("network", "gene_network.tsv").read_text().splitlines()
            if not line.startswith("#")]
    assert rows[0] == ["gene_a", "gene_b", "weight", "type"]
    return rows[1:]


def test_catalogue_pathways_and_network_agree():
    genes, hotspots = load_catalogue()
    names = {g.name for g in genes}
    assert len(names) == len(genes) >= 60
    sets = _gmt()
    assert len(sets) >= 6 and {"PI3K-Akt", "MAPK"} <= set(sets)
    assert all(len(v) >= 3 and len(v) == len(set(v)) for v in sets.values())
    assert {g for v in sets.values() for g in v} == names
    edges = _network()
    graph = nx.Graph()
    for a, b, w, _t in edges:
        assert a != b and 0 < float(w) <= 1
        assert not graph.has_edge(a, b), (a, b)
        graph.add_edge(a, b)
    assert set(graph.nodes) == names
    assert nx.number_connected_components(graph) == 1
    # every driver gene belongs to the pathway it drives
    for g in genes:
        if g.driver_pathway:
            assert g.name in sets[g.driver_pathway], g.name


def test_hotspots_change_one_base_to_a_different_amino_acid():
    genes, hotspots = load_catalogue()
    lengths = {g.name: g.protein_length for g in genes}
    for gene, items in hotspots.items():
        for hs in items:
            assert hs.codon <= lengths[gene]
            assert sum(a != b for a, b in zip(hs.ref_codon, hs.alt_codon)) == 1
            assert GENETIC_CODE[hs.ref_codon] != GENETIC_CODE[hs.alt_codon] != "*"
    assert any(h.protein_change == "p.G12D" for h in hotspots["KRAS"])
    assert any(h.protein_change == "p.V600E" for h in hotspots["BRAF"])
