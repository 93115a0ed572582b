"""The KFP-free libraries the components share: storage URIs, the model bundle, the registry, inference."""
