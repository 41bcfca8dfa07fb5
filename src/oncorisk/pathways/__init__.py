"""Stage `pathways`: gene scores over a gene-interaction network and ranked pathways with significance."""
