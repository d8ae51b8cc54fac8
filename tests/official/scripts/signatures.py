"""Print the public methods of the official ``Kili`` class and their parameters."""

import inspect
import json

from kili.client import Kili

methods = {}
for name, member in inspect.getmembers(Kili, callable):
    if name.startswith("_"):
        continue
    parameters = list(inspect.signature(member).parameters.values())[1:]  # not self
    methods[name] = [
        {"name": p.name, "kind": p.kind.name, "required": p.default is inspect.Parameter.empty}
        for p in parameters
    ]
print("RESULT " + json.dumps(methods))
