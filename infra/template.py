"""Read infra/myblog.yaml and evaluate it for a set of parameters.

A small evaluator of the intrinsic functions the template uses (Ref, Sub,
GetAtt, If, Join, Select, Equals, Not, And, Or, Condition). The tests use
it to check what a given stage would get (the tables, the policies, the
CloudFront behaviours), and the deploy rehearsal uses it to create through
the service APIs what the emulator's CloudFormation cannot.
"""

import copy
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "myblog.yaml"
NO_VALUE = object()


def load(path=TEMPLATE):
    """The template as plain data, with intrinsic tags in their long form."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if matches:
        raise ValueError(f"{path}: {[str(m) for m in matches]}")
    return _plain(template)


def _plain(value):
    # cfn-lint decodes to dict/list/str subclasses that carry line numbers.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class Evaluator:
    """Evaluates a template for `parameters` in `region` of `account`.

    `physical_ids` maps logical ids to what `Ref` returns and `attributes`
    maps (logical id, attribute) to what `GetAtt` returns; a reference
    to anything else raises KeyError, so nothing is silently invented.
    """

    def __init__(
        self, template, parameters, region="us-east-1", account="123456789012", physical_ids=None, attributes=None
    ):
        self.template = template
        self.parameters = {}
        for name, spec in template.get("Parameters", {}).items():
            value = parameters.get(name, spec.get("Default"))
            if value is None:
                raise KeyError(f"parameter {name} has no value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [item.strip() for item in value.split(",")] if value else [""]
            self.parameters[name] = value
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise KeyError(f"unknown parameters: {sorted(unknown)}")
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackName": f"myblog-{self.parameters.get('Stage', 'stage')}",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.physical_ids = physical_ids if physical_ids is not None else {}
        self.attributes = attributes if attributes is not None else {}
        self._conditions = {}

    # --- conditions -----------------------------------------------------
    def condition(self, name):
        if name not in self._conditions:
            self._conditions[name] = bool(self.value(self.template["Conditions"][name]))
        return self._conditions[name]

    def resources(self):
        """Logical id -> resource for the resources these parameters create."""
        return {
            name: resource
            for name, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def properties(self, logical_id):
        resource = self.template["Resources"][logical_id]
        return self.value(copy.deepcopy(resource.get("Properties", {})))

    def outputs(self):
        """Output name -> value, for outputs whose condition holds."""
        found = {}
        for name, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.condition(output["Condition"]):
                continue
            found[name] = self.value(output["Value"])
        return found

    # --- intrinsic functions ------------------------------------------------
    def ref(self, name):
        if name in self.pseudo:
            return self.pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return self.physical_ids[name]

    def get_att(self, logical_id, attribute):
        return self.attributes[(logical_id, attribute)]

    def sub(self, text, variables=None):
        variables = variables or {}

        def replace(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def value(self, node):
        if isinstance(node, list):
            items = [self.value(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return self.sub(arg[0], {k: self.value(v) for k, v in arg[1].items()})
                return self.sub(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.value(when_true if self.condition(name) else when_false)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(item) for item in self.value(items))
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
            if key == "Fn::Equals":
                left, right = (self.value(item) for item in arg)
                return left == right
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(item) for item in arg)
            if key == "Fn::Or":
                return any(self.value(item) for item in arg)
            if key == "Condition":
                return self.condition(arg)
        result = {}
        for key, item in node.items():
            item = self.value(item)
            if item is not NO_VALUE:
                result[key] = item
        return result
