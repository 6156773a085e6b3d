"""CSAF 2.0 §6.1 tests of the product tree (pure): 6.1.1 missing, 6.1.2 multiple and 6.1.3
circular definitions of product ids, 6.1.4 and 6.1.5 of product group ids, 6.1.25 one hash
algorithm twice, 6.1.31 a version range in a ``product_version`` branch."""

from __future__ import annotations

from typing import Any

from bulletins.csaf.shapes import Problem, as_dict, as_list

REFERRING = (
    ("remediations", "product_ids"),
    ("scores", "products"),
    ("threats", "product_ids"),
    ("flags", "product_ids"),
)
RANGE_WORDS = (
    "<",
    "<=",
    ">",
    ">=",
    "after",
    "all",
    "before",
    "earlier",
    "later",
    "prior",
    "versions",
)


def products_defined(tree: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, full product name) of every product defined in the product tree."""
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(branches: list[Any], path: str) -> None:
        for i, branch in enumerate(branches):
            here = f"{path}/{i}"
            product = as_dict(as_dict(branch).get("product"))
            if product:
                out.append((f"{here}/product", product))
            walk(as_list(as_dict(branch).get("branches")), f"{here}/branches")

    walk(as_list(tree.get("branches")), "/product_tree/branches")
    for i, fpn in enumerate(as_list(tree.get("full_product_names"))):
        out.append((f"/product_tree/full_product_names/{i}", as_dict(fpn)))
    for i, rel in enumerate(as_list(tree.get("relationships"))):
        fpn = as_dict(as_dict(rel).get("full_product_name"))
        out.append((f"/product_tree/relationships/{i}/full_product_name", fpn))
    return out


def product_references(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, product id) of every place a product id is used."""
    out: list[tuple[str, Any]] = []
    tree = as_dict(doc.get("product_tree"))
    for i, group in enumerate(as_list(tree.get("product_groups"))):
        for j, pid in enumerate(as_list(as_dict(group).get("product_ids"))):
            out.append((f"/product_tree/product_groups/{i}/product_ids/{j}", pid))
    for i, rel in enumerate(as_list(tree.get("relationships"))):
        for key in ("product_reference", "relates_to_product_reference"):
            if key in as_dict(rel):
                out.append((f"/product_tree/relationships/{i}/{key}", rel[key]))
    for v, vuln in enumerate(as_list(doc.get("vulnerabilities"))):
        out.extend(_vulnerability_references(as_dict(vuln), f"/vulnerabilities/{v}"))
    return out


def _vulnerability_references(vuln: dict[str, Any], base: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for status, ids in as_dict(vuln.get("product_status")).items():
        for j, pid in enumerate(as_list(ids)):
            out.append((f"{base}/product_status/{status}/{j}", pid))
    for key, field in REFERRING:
        for k, item in enumerate(as_list(vuln.get(key))):
            for j, pid in enumerate(as_list(as_dict(item).get(field))):
                out.append((f"{base}/{key}/{k}/{field}/{j}", pid))
    return out


def group_references(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for v, vuln in enumerate(as_list(doc.get("vulnerabilities"))):
        for key in ("remediations", "threats", "flags"):
            for k, item in enumerate(as_list(as_dict(vuln).get(key))):
                for j, gid in enumerate(as_list(as_dict(item).get("group_ids"))):
                    out.append((f"/vulnerabilities/{v}/{key}/{k}/group_ids/{j}", gid))
    return out


def product_ids(doc: dict[str, Any]) -> list[Problem]:
    """6.1.1, 6.1.2, 6.1.3, 6.1.4, 6.1.5, 6.1.25."""
    out: list[Problem] = []
    tree = as_dict(doc.get("product_tree"))
    defined: dict[Any, str] = {}
    for path, product in products_defined(tree):
        pid = product.get("product_id")
        if pid in defined:
            message = f"product id {pid} is already defined at {defined[pid]}"
            out.append(Problem("6.1.2", f"{path}/product_id", message))
        defined.setdefault(pid, f"{path}/product_id")
        out.extend(_hashes(product, path))
    for path, pid in product_references(doc):
        if pid not in defined:
            out.append(Problem("6.1.1", path, f"product id {pid} is not defined"))
    return out + _circular(tree) + _groups(doc, tree)


def _hashes(product: dict[str, Any], path: str) -> list[Problem]:
    out = []
    helper = as_dict(product.get("product_identification_helper"))
    for h, hashes in enumerate(as_list(helper.get("hashes"))):
        seen: set[Any] = set()
        for f, file_hash in enumerate(as_list(as_dict(hashes).get("file_hashes"))):
            algorithm = as_dict(file_hash).get("algorithm")
            if algorithm in seen:
                where = f"{path}/product_identification_helper/hashes/{h}/file_hashes/{f}/algorithm"
                message = f"the hash algorithm {algorithm} is used twice"
                out.append(Problem("6.1.25", where, message))
            seen.add(algorithm)
    return out


def _groups(doc: dict[str, Any], tree: dict[str, Any]) -> list[Problem]:
    out = []
    groups: dict[Any, str] = {}
    for i, group in enumerate(as_list(tree.get("product_groups"))):
        gid = as_dict(group).get("group_id")
        path = f"/product_tree/product_groups/{i}/group_id"
        if gid in groups:
            out.append(Problem("6.1.5", path, f"group id {gid} is already defined"))
        groups.setdefault(gid, path)
    for path, gid in group_references(doc):
        if gid not in groups:
            out.append(Problem("6.1.4", path, f"product group id {gid} is not defined"))
    return out


def _circular(tree: dict[str, Any]) -> list[Problem]:
    edges: dict[Any, set[Any]] = {}
    for item in as_list(tree.get("relationships")):
        rel = as_dict(item)
        pid = as_dict(rel.get("full_product_name")).get("product_id")
        refs = {rel.get("product_reference"), rel.get("relates_to_product_reference")}
        edges.setdefault(pid, set()).update(refs)
    out = []
    for i, rel in enumerate(as_list(tree.get("relationships"))):
        start = as_dict(as_dict(rel).get("full_product_name")).get("product_id")
        stack, seen = list(edges.get(start, ())), set()
        while stack:
            node = stack.pop()
            if node == start:
                out.append(
                    Problem(
                        "6.1.3",
                        f"/product_tree/relationships/{i}",
                        f"product id {start} is defined through itself",
                    )
                )
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
    return out


def version_ranges(branches: list[Any], path: str) -> list[Problem]:
    out = []
    for i, item in enumerate(branches):
        branch = as_dict(item)
        name = str(branch.get("name", "")).lower()
        if branch.get("category") == "product_version" and any(
            w in name.split() or (not w.isalpha() and w in name) for w in RANGE_WORDS
        ):
            out.append(
                Problem(
                    "6.1.31",
                    f"{path}/{i}/name",
                    f"{branch.get('name')!r} is a range: use product_version_range",
                )
            )
        out.extend(version_ranges(as_list(branch.get("branches")), f"{path}/{i}/branches"))
    return out
