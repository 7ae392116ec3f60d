"""The only way artifacts are parsed as XML: through defusedxml, so entity expansion (billion
laughs) and external entities (XXE) are refused whatever expat is linked."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused


def parse_xml(content: bytes) -> Element:
    """Parse `content` into an element tree or raise ArtifactRefused(422).

    A bare `<!DOCTYPE x SYSTEM "...">` (Java Cobertura and gcovr write one) is accepted and
    never fetched; any entity declaration or external reference is refused.
    """
    try:
        return defusedxml.ElementTree.fromstring(
            content, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden,
            defusedxml.DTDForbidden):
        raise ArtifactRefused(
            UNPROCESSABLE,
            "XML entities/DTDs are not allowed: the document declares an entity or refers to an "
            "external resource (XXE / entity-expansion protection); remove the <!DOCTYPE> "
            "internal subset and entity references",
        ) from None
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        reason = str(error).split(":", 1)[0]
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"malformed XML at line {line}, column {column}: {reason}; upload the complete, "
            "well-formed report",
        ) from None
    except ValueError as error:
        # e.g. an unsupported encoding declaration
        raise ArtifactRefused(UNPROCESSABLE, f"unreadable XML: {error}") from None


def local_name(element: Element) -> str:
    """The tag without its `{namespace}` prefix."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element: Element, name: str) -> list[Element]:
    """Direct children whose local name is `name`."""
    return [child for child in element if local_name(child) == name]
