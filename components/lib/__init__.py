"""The KFP-free libraries the components share: storage URIs (`uri`, `gcs`), the model bundle, the registry
(`registry*`), in-process inference, feature arrays, Markdown, the local serving helpers."""
