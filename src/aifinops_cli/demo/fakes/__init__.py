"""Far-end fakes: local HTTP servers answering with the real JSON of the GCP and Kubernetes APIs
(the demo, the tests and the benches; AWS is faked by moto)."""
