"""Plugins: the client's plugin methods, and what plugin authors write against.

```python
from aiokili.plugins import PluginCore

class PluginHandler(PluginCore):
    async def on_submit(self, label, asset_id):
        await self.kili.add_to_review(asset_ids=[asset_id])
```

:class:`PluginCore` is the base of a plugin's handler (``self.kili`` is an
:class:`~aiokili.AsyncKili`); :func:`run_locally` runs a handler here, without uploading it.
"""

from .._generated.fragments import Plugin, PluginLog
from .handler import PluginCore, plugin_label, run_locally
from .methods import PluginMethods

__all__ = ["Plugin", "PluginCore", "PluginLog", "PluginMethods", "plugin_label", "run_locally"]
