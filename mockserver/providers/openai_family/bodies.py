"""The answers of OpenAI's other batch endpoints (``/v1/moderations``, ``/v1/images/generations``,
``/v1/images/edits``, ``/v1/videos``): deterministic bodies in the shapes the openai SDK's models parse
(``ModerationCreateResponse``, ``ImagesResponse``, ``Video``), a function of the line and its key only."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from ...core.outcomes import digest
from .inputs import InputLine


def tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)  # ceil(len / 4)


# the wire names of the moderation categories, and whether a category is also judged on images
# (openai.types.moderation.CategoryAppliedInputTypes: the image-capable ones list "image")
CATEGORIES: tuple[tuple[str, bool], ...] = (
    ("harassment", False), ("harassment/threatening", False), ("hate", False), ("hate/threatening", False),
    ("illicit", False), ("illicit/violent", False), ("self-harm", True), ("self-harm/instructions", True),
    ("self-harm/intent", True), ("sexual", True), ("sexual/minors", False), ("violence", True), ("violence/graphic", True),
)


def _moderated_items(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """(text, has an image) per result: one per string of a list of strings, else one for the whole input."""
    raw = body.get("input", "")
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        return [(item, False) for item in raw]
    if isinstance(raw, list):
        parts = [p for p in raw if isinstance(p, dict)]
        text = " ".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")
        return [(text, any(p.get("type") == "image_url" for p in parts))]
    return [(raw if isinstance(raw, str) else "", False)]


def moderation(line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    """Nothing is flagged: every score is below 0.001, drawn from the key (our choice; the upstream's scores
    come from a classifier the fake does not have)."""
    results = []
    for i, (_text, image) in enumerate(_moderated_items(line.body)):
        seed = digest(key, i)  # 64 hex digits: four per category's score
        scores = {name: round(int(seed[4 * n:4 * n + 4], 16) / 0xFFFF * 0.001, 8) for n, (name, _) in enumerate(CATEGORIES)}
        results.append({
            "flagged": False,
            "categories": {name: False for name, _ in CATEGORIES},
            "category_scores": scores,
            "category_applied_input_types": {name: ["text", "image"] if image and both else ["text"] for name, both in CATEGORIES},
        })
    model = line.body.get("model")
    return {"id": f"modr-{key[:32]}", "model": model if isinstance(model, str) else "omni-moderation-latest", "results": results}


def moderation_usage(line: InputLine) -> tuple[int, int]:
    return 0, 0  # the moderation answer has no usage


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A valid 1×1 PNG of one colour (the smallest real image the SDKs' users can decode)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes((0, *rgb)))) + chunk(b"IEND", b"")


# output tokens per image by quality (OpenAI's published gpt-image-1 figures for a square image; the fake
# uses them for every size: our simplification)
IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}
INPUT_IMAGE_TOKENS = 65  # per image given to an edit (our figure: the upstream's depends on the image)
MAX_IMAGES = 10  # OpenAI's bound on n


def _image_count(body: dict[str, Any]) -> int:
    n = body.get("n", 1)
    return min(n, MAX_IMAGES) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _edit_inputs(body: dict[str, Any]) -> int:
    given = body.get("images", body.get("image"))
    return len(given) if isinstance(given, list) else (1 if given else 0)


def _gpt_image(body: dict[str, Any]) -> bool:
    model = body.get("model")
    return not (isinstance(model, str) and model.startswith("dall-e"))


def _quality(body: dict[str, Any]) -> str:
    quality = body.get("quality")
    return quality if quality in IMAGE_TOKENS else "auto"


def image(line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    """gpt-image models answer ``b64_json`` (a 1×1 PNG whose colour comes from the key) with usage; DALL·E
    models a ``url`` unless ``response_format`` is ``b64_json`` (the URL is on a ``.invalid`` host: the fake
    stores no images) and no usage, as the upstream does."""
    body = line.body
    gpt_image = _gpt_image(body)
    data: list[dict[str, Any]] = []
    for i in range(_image_count(body)):
        seed = digest(key, i)
        if gpt_image or body.get("response_format") == "b64_json":
            rgb = (int(seed[0:2], 16), int(seed[2:4], 16), int(seed[4:6], 16))
            data.append({"b64_json": base64.b64encode(_png(rgb)).decode()})
        else:
            data.append({"url": f"https://images.mockserver.invalid/{seed[:32]}.png"})
    answer: dict[str, Any] = {"created": created, "data": data}
    if gpt_image:
        size = body.get("size")
        background = body.get("background")
        output_format = body.get("output_format")
        answer.update(
            background=background if background in ("transparent", "opaque") else "opaque",
            output_format=output_format if output_format in ("png", "webp", "jpeg") else "png",
            quality=_quality(body) if _quality(body) != "auto" else "medium",
            size=size if isinstance(size, str) and size != "auto" else "1024x1024",
        )
        text_tokens, image_tokens, output_tokens = _image_usage(line)
        answer["usage"] = {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
        }
    return answer


def _image_usage(line: InputLine) -> tuple[int, int, int]:
    body = line.body
    prompt = body.get("prompt")
    return (
        tokens(prompt if isinstance(prompt, str) else ""),
        _edit_inputs(body) * INPUT_IMAGE_TOKENS,
        _image_count(body) * IMAGE_TOKENS[_quality(body)],
    )


def image_usage(line: InputLine) -> tuple[int, int]:
    if not _gpt_image(line.body):
        return 0, 0
    text_tokens, image_tokens, output_tokens = _image_usage(line)
    return text_tokens + image_tokens, output_tokens


VIDEO_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
VIDEO_LIFETIME = 86_400  # seconds a finished video stays downloadable in the fake (our choice)


def video(line: InputLine, key: str, created: int, dimensions: int) -> dict[str, Any]:
    """A finished ``video`` job object, as ``POST /v1/videos`` answers once the render is done."""
    body = line.body
    model, prompt, seconds, size = body.get("model"), body.get("prompt"), body.get("seconds"), body.get("size")
    return {
        "id": f"video_{key[:32]}",
        "object": "video",
        "created_at": created,
        "completed_at": created,
        "expires_at": created + VIDEO_LIFETIME,
        "error": None,
        "model": model if isinstance(model, str) else "sora-2",
        "progress": 100,
        "prompt": prompt if isinstance(prompt, str) else None,
        "remixed_from_video_id": None,
        "seconds": seconds if isinstance(seconds, str) else "4",
        "size": size if size in VIDEO_SIZES else "720x1280",
        "status": "completed",
    }


def video_usage(line: InputLine) -> tuple[int, int]:
    return 0, 0  # the video object has no usage


def example_body(kind: str, i: int) -> dict[str, Any] | None:
    """A request body of one of these endpoints, for a fixture's batch (None: not one of them)."""
    if kind == "moderations":
        return {"model": "omni-moderation-latest", "input": f"Example text {i + 1}"}
    if kind == "images/generations":
        return {"model": "gpt-image-1", "prompt": f"Example picture {i + 1}", "quality": "low"}
    if kind == "images/edits":
        return {"model": "gpt-image-1", "prompt": f"Example edit {i + 1}", "images": [{"image_url": "https://example.com/in.png"}]}
    if kind == "videos":
        return {"model": "sora-2", "prompt": f"Example scene {i + 1}", "seconds": "4"}
    return None
