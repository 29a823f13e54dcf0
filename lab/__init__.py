"""The lab: what measures and attacks the fleet (the bench, chaos, the soak) and the
harness pieces they share (hosts in network namespaces, a Sentinel cluster, a delaying
TCP proxy). The product never imports it (tests/unit/test_layers.py walks the imports);
it may import anything of the product."""
