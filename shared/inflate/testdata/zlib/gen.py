#!/usr/bin/env python3
"""Regenerates the zlib-made samples next to this script.

Go's encoders (compress/flate, klauspost) never emit some shapes that zlib
does: empty fixed blocks from Z_PARTIAL_FLUSH, Z_FIXED and Z_RLE blocks,
a 512-byte window, parameters changed mid-stream. Most archives the scanner
meets were written by zlib, so these samples pin the decoder against it.
Output is deterministic for a given zlib version (1.2.13 made these).
"""
import gzip
import os
import random
import zlib

here = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(1)
words = ("the of and to in is was that for it with as his on be at by had are "
         "but from or have an they which one you were her all she there would "
         "their we him been has when who will more no if out so said what up its "
         "about into than them can only other new some could time these two may "
         "bucket region access key secret token request object upload").split()


def text(n):
    out = []
    size = 0
    while size < n:
        s = " ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14)))
        s = s.capitalize() + rnd.choice([". ", ".\n", ", ", "; "])
        out.append(s)
        size += len(s)
    return "".join(out).encode()[:n]


sample = text(5000) + rnd.randbytes(2000) + text(4000) + bytes(1000) + text(300)
with open(os.path.join(here, "sample.bin"), "wb") as f:
    f.write(sample)


def raw(level=6, strategy=zlib.Z_DEFAULT_STRATEGY, wbits=-15, mem=8, flush=None, step=997):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, mem, strategy)
    if flush is None:
        return c.compress(sample) + c.flush()
    out = b""
    for i in range(0, len(sample), step):
        out += c.compress(sample[i:i + step]) + c.flush(flush)
    return out + c.flush()


def block_boundaries():
    # Z_BLOCK ends a block mid-byte without alignment, Z_FULL_FLUSH aligns
    # with an empty stored block and forgets the window: both boundaries in
    # one stream.
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    out = c.compress(sample[:6000]) + c.flush(zlib.Z_BLOCK)
    out += c.compress(sample[6000:9000]) + c.flush(zlib.Z_FULL_FLUSH)
    out += c.compress(sample[9000:])
    return out + c.flush()


samples = {
    "level0": raw(0),
    "level1": raw(1),
    "level6": raw(6),
    "level9-mem9": raw(9, mem=9),
    "filtered": raw(6, zlib.Z_FILTERED),
    "huffman": raw(6, zlib.Z_HUFFMAN_ONLY),
    "rle": raw(6, zlib.Z_RLE),
    "fixed": raw(6, zlib.Z_FIXED),
    "window512": raw(9, wbits=-9, mem=1),
    "partial-flush": raw(6, flush=zlib.Z_PARTIAL_FLUSH),
    "sync-flush": raw(1, flush=zlib.Z_SYNC_FLUSH, step=300),
    "block-boundaries": block_boundaries(),
}
for name, data in samples.items():
    with open(os.path.join(here, name + ".deflate"), "wb") as f:
        f.write(data)

# gzip as the command line and Python's module write it: FNAME and MTIME set.
with open(os.path.join(here, "named.gz"), "wb") as f:
    with gzip.GzipFile(filename="sample.bin", mode="wb", fileobj=f, mtime=1700000000) as g:
        g.write(sample)
