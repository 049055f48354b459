#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into fuzz/corpus/.

Each seed is a small file: valid IDX and safetensors files, and the malformed
files that tests/test_idx.cpp and tests/test_safetensors.cpp reject. The
output is committed, so run this only after changing a seed:

    python3 fuzz/make_corpus.py

The files have no .safetensors extension because .gitignore ignores it.
"""

import gzip
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def idx(type_code, sizes, data=b""):
    return bytes([0, 0, type_code, len(sizes)]) + b"".join(struct.pack(">I", s) for s in sizes) + data


def counting(count):
    return bytes(i % 256 for i in range(count))


def noise(count):
    """Bytes that deflate cannot shrink, from the tests' linear congruential sequence."""
    state = 12345
    out = bytearray()
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**32
        out.append(state >> 24)
    return bytes(out)


def gz(data):
    # mtime=0 keeps the output the same on every run.
    return gzip.compress(data, mtime=0)


def idx_seeds():
    max_size = 0xFFFFFFFF
    valid_gzip = gz(idx(0x08, [300], noise(300)))
    bad_crc = bytearray(valid_gzip)
    bad_crc[-8] ^= 0xFF
    seeds = {
        # Valid files.
        "labels-1d": idx(0x08, [4], bytes([9, 0, 3, 7])),
        "images-3x2x5": idx(0x08, [3, 2, 5], counting(30)),
        "images-2x260x3": idx(0x08, [2, 260, 3], counting(1560)),
        "tensor-4d": idx(0x08, [2, 1, 2, 3], counting(12)),
        "empty-0x28x28": idx(0x08, [0, 28, 28]),
        "gzip-3x2x5": gz(idx(0x08, [3, 2, 5], counting(30))),
        "gzip-300-noise": valid_gzip,
        "gzip-two-members": gz(idx(0x08, [3, 2, 5], counting(30))[:10])
        + gz(idx(0x08, [3, 2, 5], counting(30))[10:]),
        # Malformed files.
        "empty-file": b"",
        "truncated-magic": bytes([0, 0, 8]),
        "truncated-sizes": idx(0x08, [3, 2, 5])[:10],
        "truncated-data": idx(0x08, [3, 2, 5], counting(29)),
        "trailing-bytes": idx(0x08, [3, 2, 5], counting(31)),
        "wrong-magic": bytes([1, 0, 8, 1, 7]),
        "png-signature": b"\x89PNG\r\n\x1a\n",
        "type-signed-byte": idx(0x09, [2], b"\x01\x02"),
        "type-short": idx(0x0B, [2], b"\x01\x02"),
        "type-int": idx(0x0C, [2], b"\x01\x02"),
        "type-float": idx(0x0D, [2], b"\x01\x02"),
        "type-double": idx(0x0E, [2], b"\x01\x02"),
        "type-invalid": idx(0x0A, [2], b"\x01\x02"),
        "rank-0": idx(0x08, [], b"\x07"),
        "rank-5": idx(0x08, [1, 1, 1, 1, 1], b"\x07"),
        "sizes-overflow": idx(0x08, [max_size] * 3, b"\x01\x02\x03"),
        "sizes-overflow-with-zero": idx(0x08, [0, max_size, max_size, max_size]),
        "sizes-overflow-strides": idx(0x08, [0, 0xFF030000, 0x01000000, 0x8D]),
        "claims-more-than-input": idx(0x08, [max_size, 0x7FFFFFFF], b"\x01\x02\x03"),
        "gzip-claim-over-ratio": gz(idx(0x08, [1000000, 28, 28], counting(10))),
        "gzip-claim-over-limit": gz(idx(0x08, [1536, 1024, 1024], counting(10))),
        "gzip-truncated-data": gz(idx(0x08, [200000], noise(300))),
        "gzip-trailing-bytes": gz(idx(0x08, [3, 2, 5], counting(40))),
        "gzip-bad-crc": bytes(bad_crc),
        "gzip-bad-block-type": bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF]),
        "gzip-garbage-after": valid_gzip + b"junk",
        "gzip-cut-in-half": valid_gzip[: len(valid_gzip) // 2],
        "gzip-no-trailer": valid_gzip[:-8],
        "gzip-header-only": valid_gzip[:10],
    }
    return seeds


def safetensors(header, data=b""):
    text = header if isinstance(header, bytes) else header.encode()
    return struct.pack("<Q", len(text)) + text + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors_seeds():
    f32_2x2 = json.dumps(entry("F32", [2, 2], 0, 16))
    sixteen = bytes(16)

    by_hand_data = struct.pack("<4f", 1.0, 2.0, -0.5, 3.0) + struct.pack("<2d", 1.5, -2.0)
    by_hand = (
        '{"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},'
        '"bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},'
        '"__metadata__":{"format":"pt"}}'
    )
    # As tapegrad writes: metadata first, F64 before F32, padded to 8 bytes.
    written = json.dumps(
        {
            "__metadata__": {"format": "pt", "note": "h\u00e9llo"},
            "precise": entry("F64", [2, 2], 0, 32),
            "step": entry("F64", [], 32, 40),
            "empty": entry("F32", [0, 3], 40, 40),
            "layer.bias": entry("F32", [3], 40, 52),
            "scale": entry("F32", [], 52, 56),
        },
        separators=(",", ":"),
    )
    written += " " * (-len(written) % 8)
    written_data = struct.pack("<5d", 0.5, float("nan"), float("inf"), -0.0, 41.5)
    written_data += struct.pack("<4f", 1.0, 2.0, 3.0, -0.0)
    edge = (
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
        '"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},'
        '"scalar":{"dtype":"F32","shape":[],"data_offsets":[8,12],"extra":"ignored"}}    '
    )

    def with_shape(shape):
        return safetensors('{"w":{"dtype":"F32","shape":%s,"data_offsets":[0,4]}}' % shape, b"abcd")

    def with_offsets(offsets, data_size):
        return safetensors(
            '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":%s}}' % offsets, bytes(data_size)
        )

    def two(begin_a, end_a, begin_b, end_b, data_size):
        header = {"a": entry("F32", [2, 2], begin_a, end_a), "b": entry("F32", [2, 2], begin_b, end_b)}
        return safetensors(json.dumps(header), bytes(data_size))

    seeds = {
        # Valid files.
        "by-hand": safetensors(by_hand, by_hand_data),
        "as-written": safetensors(written, written_data),
        "edge-cases": safetensors(edge, bytes(12)),
        "only-metadata": safetensors('{"__metadata__":{}}'),
        "no-tensors": safetensors("{}"),
        # Malformed files.
        "short-5-bytes": bytes(5),
        "empty-file": b"",
        "length-past-end": struct.pack("<Q", 100) + b" " * 20,
        "length-over-limit": struct.pack("<Q", 200_000_000) + b"{}",
        "length-max": struct.pack("<Q", 2**64 - 1) + b"{}",
        "json-cut-off": safetensors('{"a": '),
        "json-trailing": safetensors('{"a":{}} trailing'),
        "json-array": safetensors("[1, 2]"),
        "json-leading-space": safetensors(" {}"),
        "json-empty": safetensors(""),
        "json-invalid-utf8": safetensors(b'{"\xff": 1}'),
        "duplicate-tensor": safetensors('{"a":%s,"a":%s}' % (f32_2x2, f32_2x2), sixteen),
        "duplicate-metadata": safetensors('{"__metadata__":{"k":"1","k":"2"}}'),
        "nested-shape": with_shape("[[1]]"),
        "deep-nesting": safetensors('{"w":' + "[" * 100 + "]" * 100 + "}"),
        "entry-not-object": safetensors('{"w":3}'),
        "no-dtype": safetensors('{"w":{"shape":[1],"data_offsets":[0,4]}}', b"abcd"),
        "no-shape": safetensors('{"w":{"dtype":"F32","data_offsets":[0,4]}}', b"abcd"),
        "no-offsets": safetensors('{"w":{"dtype":"F32","shape":[1]}}', b"abcd"),
        "dtype-number": safetensors('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', b"abcd"),
        "dtype-unknown": safetensors('{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}', b"abcd"),
        "dtype-f16": safetensors('{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', b"abcd"),
        "dtype-i64": safetensors('{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', bytes(8)),
        "shape-number": with_shape("4"),
        "shape-negative": with_shape("[2,-1]"),
        "shape-fraction": with_shape("[2.5]"),
        "shape-string": with_shape('["1"]'),
        "shape-over-64-bits": with_shape("[18446744073709551616]"),
        "shape-bytes-overflow": with_shape("[4294967296,4294967296]"),
        "shape-overflow-then-zero": with_shape("[4294967296,4294967296,0]"),
        "shape-zero-then-overflow": with_shape("[0,4294967296,4294967296]"),
        "shape-65-dimensions": with_shape("[" + ",".join(["1"] * 65) + "]"),
        "offsets-one": with_offsets("[0]", 16),
        "offsets-three": with_offsets("[0,16,32]", 16),
        "offsets-negative": with_offsets("[-1,15]", 16),
        "offsets-object": with_offsets('{"begin":0}', 16),
        "offsets-reversed": with_offsets("[16,0]", 16),
        "offsets-past-end": with_offsets("[0,16]", 8),
        "offsets-wrong-span": with_offsets("[0,12]", 12),
        "offsets-f64-span": safetensors('{"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}}', sixteen),
        "overlap": two(0, 16, 8, 24, 24),
        "same-range": two(0, 16, 0, 16, 16),
        "gap-between": two(0, 16, 20, 36, 36),
        "gap-at-start": safetensors(json.dumps({"a": entry("F32", [2, 2], 4, 20)}), bytes(20)),
        "gap-at-end": safetensors(json.dumps({"a": entry("F32", [2, 2], 0, 16)}), bytes(19)),
        "data-without-tensors": safetensors("{}", b"abc"),
        "metadata-string": safetensors('{"__metadata__":"pt"}'),
        "metadata-number": safetensors('{"__metadata__":{"step":3}}'),
        "metadata-nested": safetensors('{"__metadata__":{"nested":{"a":"b"}}}'),
    }
    return seeds


def write(folder, seeds):
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in seeds.items():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    write(CORPUS / "idx", idx_seeds())
    write(CORPUS / "safetensors", safetensors_seeds())
