"""The package's shape: no import cycles among grouprep's modules (function-
level imports included), and the one-home rules the code relies on."""
import ast
import os
import re


ROOT = os.path.join(os.path.dirname(__file__), "..")
PACKAGE = os.path.join(ROOT, "grouprep")


def _modules():
  """{dotted module name: path} of every module in grouprep/."""
  out = {}
  for base, _, files in os.walk(PACKAGE):
    for f in files:
      if f.endswith(".py"):
        rel = os.path.relpath(os.path.join(base, f), ROOT)[:-3]
        name = rel.replace(os.sep, ".")
        out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = \
            os.path.join(base, f)
  return out


def import_graph(modules=None):
  """{module: set of grouprep modules it imports}, every import statement
  anywhere in the file (module level or inside functions). Importing
  a.b.c also imports the package a.b (its __init__ runs first)."""
  modules = modules or _modules()
  graph = {}
  for name, path in modules.items():
    targets = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
      if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
      elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
        module = node.module
        if node.level:  # relative: from its own package, level - 1 up
          package = name if path.endswith("__init__.py") else \
              name.rpartition(".")[0]
          for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
          module = f"{package}.{module}" if module else package
        names = [f"{module}.{a.name}" for a in node.names] + [module]
      else:
        continue
      for n in names:
        while n and n not in modules:  # `from pkg import fn`: the module pkg
          n = n.rpartition(".")[0]
        while n.startswith("grouprep"):  # the module and its packages
          if n != name:
            targets.add(n)
          n = n.rpartition(".")[0]
    graph[name] = targets - {"grouprep"}
  return graph


def find_cycle(graph):
  """One import cycle as a list of modules, or None."""
  state = {}

  def visit(node, path):
    state[node] = "open"
    for nxt in sorted(graph.get(node, ())):
      if state.get(nxt) == "open":
        return path[path.index(nxt):] + [nxt]
      if nxt not in state:
        found = visit(nxt, path + [nxt])
        if found:
          return found
    state[node] = "done"
    return None

  for node in sorted(graph):
    if node not in state:
      found = visit(node, [node])
      if found:
        return found
  return None


def test_no_import_cycles():
  graph = import_graph()
  assert "grouprep.train" in graph and "grouprep.evaluate" in graph
  assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_relative_imports_are_edges_too(tmp_path):
  files = {"grouprep/__init__.py": "", "grouprep/a.py": "from . import b\n",
           "grouprep/b.py": "from .a import x\n",
           "grouprep/sub/__init__.py": "from .. import a\n"}
  modules = {}
  for rel, text in files.items():
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(text)
    name = rel[:-3].replace("/", ".").removesuffix(".__init__")
    modules[name] = str(tmp_path / rel)
  graph = import_graph(modules)
  assert graph["grouprep.a"] == {"grouprep.b"}
  assert graph["grouprep.b"] == {"grouprep.a"}
  assert graph["grouprep.sub"] == {"grouprep.a"}
  assert find_cycle(graph) is not None


def test_the_cycle_finder_finds_cycles():
  assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
  assert find_cycle({"a": {"b"}, "b": set()}) is None
  # A function-level import counts.
  graph = import_graph()
  assert "grouprep.report" in graph["grouprep.evaluate"]


# A vector divided by its own norm: rsqrt, or a norm kept as a divisor (a
# heuristic: a keepdims norm of a nested call, norm(f(x), ...), slips by).
NORMALISES = re.compile(r"rsqrt|/\s*\(?\s*(jnp|np)\.linalg\.norm\("
                        r"|linalg\.norm\([^)]*keepdims\s*=\s*True")


def normalises(text: str) -> bool:
  return bool(NORMALISES.search(text))


def test_the_normalisation_scan_finds_each_form():
  for text in ("x * jax.lax.rsqrt(s)", "x / jnp.linalg.norm(x, axis=-1)",
               "x / (np.linalg.norm(x))",
               "n = jnp.linalg.norm(x, axis=-1, keepdims=True)"):
    assert normalises(text), text
  assert not normalises("drift = jnp.mean(jnp.linalg.norm(a - b, axis=-1))")


def test_one_normalisation_and_one_pooling_implementation():
  """rsqrt / norm-based normalisation and the pooling rules live in one
  module each (losses.l2_normalize; pooling.py)."""
  for name, path in _modules().items():
    text = open(path).read()
    if name != "grouprep.losses":
      assert not normalises(text), f"{path} normalises on its own"
    if name != "grouprep.pooling":
      assert "SOFT_MEDOID_TEMPERATURE" not in text and \
          "def medoid" not in text and "def centroid" not in text, path


# The one place the library names one of the note's configurations in code:
# the benchmark's default workload is the main job's configuration (SPEC §4).
NOTE_NAME_ALLOWED = {("grouprep.benchmark", "gi_centroid")}


def _code_strings(tree):
  """The string constants of a module that are not docstrings."""
  docstrings = set()
  for node in ast.walk(tree):
    if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)) and node.body:
      first = node.body[0]
      if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        docstrings.add(id(first.value))
  return [n.value for n in ast.walk(tree)
          if isinstance(n, ast.Constant) and isinstance(n.value, str)
          and id(n) not in docstrings]


def test_the_library_imports_no_project_and_names_no_note_configuration():
  """projects/ builds on grouprep, never the reverse: no grouprep module
  imports projects, and no grouprep code (docstrings aside: a command may be
  shown) names one of the note's configurations, whose study lives in
  projects/group_note."""
  from projects.group_note.comparisons import NOTE_FOUR
  for name, path in _modules().items():
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
      if isinstance(node, ast.Import):
        imported = [a.name for a in node.names]
      elif isinstance(node, ast.ImportFrom):
        imported = [node.module or ""]
      else:
        continue
      assert not any(m.split(".")[0] == "projects" for m in imported), (
          f"{path} imports {imported}")
    for text in _code_strings(tree):
      # importlib.import_module("projects...") or a path into projects/.
      assert not text.startswith(("projects.", "projects/")), (
          f"{path} reaches into projects/: {text!r}")
      named = [n for n in NOTE_FOUR if n in text
               and (name, n) not in NOTE_NAME_ALLOWED]
      assert not named, f"{path} names {named} in {text!r}"


def test_the_note_name_check_sees_code_not_docstrings():
  tree = ast.parse('"""gi_centroid in a docstring."""\n'
                   'def f():\n  """gg_medoid too."""\n  return "gi_medoid"\n')
  assert _code_strings(tree) == ["gi_medoid"]


def test_data_imports_neither_methods_nor_evaluators():
  """data/ is below what trains and evaluates: a dataset is added without
  touching a method or an evaluator, and neither is imported by data/."""
  above = ("grouprep.methods", "grouprep.evaluators", "grouprep.evaluate",
           "grouprep.train", "grouprep.encoder", "grouprep.api")
  for name, targets in import_graph().items():
    if name.startswith("grouprep.data"):
      bad = sorted(t for t in targets if t.startswith(above))
      assert not bad, f"{name} imports {bad}"


SOURCE_NAMES = ("omniglot", "vinyals", "folder", "csv")


def branches_on_the_source(tree):
  """Lines that read config.data.source (or data_config.source) or compare
  a value with a source's name."""
  lines = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Attribute) and node.attr == "source" and \
        isinstance(node.value, (ast.Attribute, ast.Name)) and \
        getattr(node.value, "attr", getattr(node.value, "id", "")) in (
            "data", "d", "data_config"):
      lines.append(node.lineno)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "get" and node.args and \
        isinstance(node.args[0], ast.Constant) and \
        node.args[0].value == "source" and \
        getattr(node.func.value, "attr", "") == "data":
      lines.append(node.lineno)
    if isinstance(node, ast.Compare):
      for side in [node.left] + node.comparators:
        values = side.elts if isinstance(side, (ast.Tuple, ast.List,
                                                ast.Set)) else [side]
        if any(isinstance(v, ast.Constant) and v.value in SOURCE_NAMES
               for v in values):
          lines.append(node.lineno)
    # data["source"], getattr(data, "source")
    if isinstance(node, ast.Subscript) and _is_name(node.slice, ("source",)) \
        and getattr(node.value, "attr", getattr(node.value, "id", "")) in (
            "data", "d", "data_config"):
      lines.append(node.lineno)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == \
        "getattr" and len(node.args) > 1 and _is_name(node.args[1],
                                                      ("source",)):
      lines.append(node.lineno)
    # {"folder": ...}[name], match name: case "folder", x.startswith("csv")
    if isinstance(node, ast.Dict) and any(
        _is_name(k, SOURCE_NAMES) for k in node.keys if k is not None):
      lines.append(node.lineno)
    if isinstance(node, ast.MatchValue) and _is_name(node.value,
                                                     SOURCE_NAMES):
      lines.append(node.lineno)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
        "startswith", "endswith") and node.args and isinstance(
            node.args[0], ast.Constant) and isinstance(
                node.args[0].value, str) and any(
                    n.startswith(node.args[0].value) or
                    node.args[0].value.startswith(n) for n in SOURCE_NAMES):
      lines.append(node.lineno)
  return lines


def _is_name(node, names) -> bool:
  return isinstance(node, ast.Constant) and node.value in names


def test_no_branch_on_the_source_outside_its_registry():
  """config.data.source is read by data/sources/ alone: everything else
  asks the source (data/sources/interface.py) what it offers."""
  for name, path in _modules().items():
    if name.startswith("grouprep.data.sources"):
      continue
    lines = branches_on_the_source(ast.parse(open(path).read(), path))
    assert not lines, f"{path} branches on the data source at lines {lines}"


def test_the_branch_finder_finds_branches():
  code = ("if config.data.source == 'folder': pass\n"
          "x = d.source\n"
          "y = config.data.get('source', 'omniglot')\n"
          "z = kind in ('folder', 'csv')\n"
          "ok = source.name\n"
          "a = config.data['source']\n"
          "b = getattr(config.data, 'source')\n"
          "c = {'folder': 1, 'csv': 2}[kind]\n"
          "e = split.startswith('vinyals')\n"
          "match kind:\n"
          "  case 'csv': pass\n")
  assert sorted(branches_on_the_source(ast.parse(code))) == [
      1, 1, 2, 3, 4, 6, 7, 8, 9, 11]
