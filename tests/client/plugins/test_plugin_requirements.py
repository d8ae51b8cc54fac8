"""What a plugin's requirements.txt may say: index packages pass, anything that would make
pip read a file, run a local build or use another source is refused, line by line."""

from __future__ import annotations

import pytest

from aiokili.plugins.requirements import refused_requirements


@pytest.mark.parametrize(
    "text",
    ["numpy==2.1.0", "requests>=2 # a comment", "pandas[excel]>=2; python_version > '3.8'",
     "zope.interface", "pkg==1.0 --hash=sha256:0123abcd", "numpy \\\n  ==2.1.0",
     "# only a comment", "", "not a requirement =="],
)  # fmt: skip
def test_index_packages_pass_and_what_pip_cannot_parse_is_left_to_pip(text: str) -> None:
    assert refused_requirements(text) == []


@pytest.mark.parametrize(
    ("line", "why"),
    [("./local", "a local path"), ("../up/pkg", "a local path"), ("/srv/pkg", "a local path"),
     ("pkg-1.0.tar.gz", "a local archive"), ("dist/pkg.whl", "a local path"),
     ("-r /etc/passwd", "the pip option -r"), ("--requirement=x.txt", "the pip option --requirement"),
     ("-e .", "the pip option -e"), ("-c c.txt", "the pip option -c"), ("-f /tmp", "the pip option -f"),
     ("--index-url https://example.com/simple", "the pip option --index-url"),
     ("-i https://example.com/simple", "the pip option -i"),
     ("--extra-index-url=https://example.com", "the pip option --extra-index-url"),
     ("--trusted-host example.com", "the pip option --trusted-host"),
     ("pkg==1 --global-option=--x", "the pip option --global-option"),
     ("https://example.com/pkg.whl", "a URL"), ("git+https://example.com/p.git", "a URL"),
     ("file:../pkg", "a URL"), ("pkg @ https://example.com/pkg.whl", "a URL"),
     ("pkg@ file:///srv/pkg", "a URL"), ("${HOME}/pkg", "an environment variable")],
)  # fmt: skip
def test_a_line_that_is_not_an_index_package_is_refused_naming_it(line: str, why: str) -> None:
    (message,) = refused_requirements(f"numpy==2.1.0\n\n{line}\nrequests\n")
    assert message == (
        f"requirements.txt line 3 ({line!r}) uses {why}: refused, a plugin's requirements are "
        "package names from the package index, e.g. numpy==2.1.0."
    )
