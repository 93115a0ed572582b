"""The one version number of loopline's code and images."""

VERSION = "0.1.0"
