"""aiokili: async, typed Kili SDK."""
