"""The pure core: values in, values out. No files, no network, no printing."""
