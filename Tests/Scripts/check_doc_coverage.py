#!/usr/bin/env python3
"""Fails when a DocC archive lists a public symbol of ours without documentation.

Usage: check_doc_coverage.py [--pending "ModA ModB"] BUILD_DIR MODULE...

For each MODULE, reads BUILD_DIR/plugins/Swift-DocC/outputs/<MODULE>.doccarchive/
documentation-coverage.json (`swift package generate-documentation
--experimental-documentation-coverage`) and prints each undocumented symbol as
`Module: symbol path`.

Not counted, as not written by us or documented elsewhere: DocC's automatic groups ("Equatable
Implementations"...) and extended-module pages; symbols the compiler made (synthesized `!=`,
`hash(into:)`, `init(from:)`, and default implementations from another module's protocol
extensions: they have no source location in the symbol graph); and symbols whose documentation
is inherited from a protocol of another module (`==`, `description`, `encode(to:)`, a
`Transport`'s `withConnection(to:_:)`...: the symbol graph gives them that module's comment).
The symbol graphs are BUILD_DIR/*/extracted-symbols/*/<MODULE>/*.symbols.json. Modules named in --pending
are listed but do not fail. Exit status 1 when a module not pending has an offender, or a file
is missing.
"""
import argparse
import glob
import json
import pathlib
import re
import sys

# DocC's link disambiguation: `Request-swift.struct`, `init(from:)-4abcd`, `send(_:)-(String)`.
DISAMBIGUATION = re.compile(r"-(swift\.[a-z.]+|[0-9a-z]{3,6}|\(.*\)|\(.*\)->.*)$")


def plain(path):
    return "/".join(DISAMBIGUATION.sub("", part) for part in path.split("/") if part)


def inherited_paths(build, module):
    """Paths of the module's symbols made by the compiler or documented by another module."""
    files = glob.glob(str(pathlib.Path(build) / "*" / "extracted-symbols" / "*" / module / "*.symbols.json"))
    paths = set()
    for file in files:
        graph = json.loads(pathlib.Path(file).read_text())
        for symbol in graph.get("symbols", []):
            comment = symbol.get("docComment") or {}
            synthesized = "location" not in symbol
            if synthesized or (comment.get("lines") and comment.get("module", module) != module):
                paths.add("/".join(symbol["pathComponents"]))
    return paths, bool(files)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", default="")
    parser.add_argument("build")
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args()
    pending = set(args.pending.split())
    failed = False
    for module in args.modules:
        archive = pathlib.Path(args.build) / "plugins" / "Swift-DocC" / "outputs" / f"{module}.doccarchive"
        coverage = archive / "documentation-coverage.json"
        inherited, found_graphs = inherited_paths(args.build, module)
        if not coverage.exists() or not found_graphs:
            print(f"{module}: no {coverage} or no symbol graph (was it built with coverage?)")
            failed = True
            continue
        prefix = f"doc://{module}/documentation/{module}/"
        offenders = set()
        for entry in json.loads(coverage.read_text()):
            kind = (entry.get("kind") or {}).get("name", "")
            if entry.get("hasAbstract", True) or not (entry.get("kind") or {}).get("isSymbol", False):
                continue
            if kind.startswith("Extended"):
                continue
            path = entry.get("referencePath", "")
            if not path.startswith(prefix):
                continue
            symbol = path[len(prefix):]
            # DocC's path spells operators with `_`: the title has the real name.
            parent = plain(symbol.rsplit("/", 1)[0]) if "/" in symbol else ""
            titled = "/".join(filter(None, [parent, entry.get("title", "")]))
            if plain(symbol) in inherited or titled in inherited:
                continue
            offenders.add((symbol, kind))
        for symbol, kind in sorted(offenders):
            print(f"{module}: {symbol} ({kind.lower()})")
        if offenders:
            state = "pending: listed, not failing" if module in pending else "FAILS"
            print(f"{module}: {len(offenders)} undocumented public symbol(s) ({state})")
            failed = failed or module not in pending
        else:
            print(f"{module}: every public symbol is documented")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
