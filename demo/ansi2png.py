#!/usr/bin/env python3
"""Render a `tmux capture-pane -e -p` dump (text with ANSI SGR colours) to a PNG.

Used by demo/screenshots.sh so the README's pictures come from a real run of the real
binary in a real terminal, not from a mock-up. Needs Pillow and a monospace TTF
(DejaVu Sans Mono from Debian's fonts-dejavu-core).

    python3 demo/ansi2png.py capture.ansi out.png [COLUMNS ROWS]
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
]
BOLD_PATHS = [p.replace("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf") for p in FONT_PATHS]

# xterm's 16 colours, then the default foreground/background of a dark terminal.
PALETTE = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
DEFAULT_FG = (204, 204, 204)
DEFAULT_BG = (24, 24, 24)


def xterm256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def load_font(paths, size):
    for p in paths:
        try:
            return ImageFont.truetype(p, size)
        except OSError:
            continue
    sys.exit("no DejaVu Sans Mono font found (apt-get install fonts-dejavu-core)")


def parse(text):
    """Yields rows of cells (char, fg, bg, bold)."""
    rows = []
    fg, bg, bold, reverse = None, None, False, False
    for line in text.split("\n"):
        row = []
        i = 0
        while i < len(line):
            m = re.match(r"\x1b\[([0-9;:]*)m", line[i:])
            if m:
                params = [int(p) if p else 0 for p in re.split("[;:]", m.group(1))] or [0]
                j = 0
                while j < len(params):
                    p = params[j]
                    if p == 0:
                        fg, bg, bold, reverse = None, None, False, False
                    elif p == 1:
                        bold = True
                    elif p == 22:
                        bold = False
                    elif p == 7:
                        reverse = True
                    elif p == 27:
                        reverse = False
                    elif 30 <= p <= 37:
                        fg = PALETTE[p - 30]
                    elif 90 <= p <= 97:
                        fg = PALETTE[p - 90 + 8]
                    elif 40 <= p <= 47:
                        bg = PALETTE[p - 40]
                    elif 100 <= p <= 107:
                        bg = PALETTE[p - 100 + 8]
                    elif p == 39:
                        fg = None
                    elif p == 49:
                        bg = None
                    elif p in (38, 48) and j + 1 < len(params):
                        if params[j + 1] == 5 and j + 2 < len(params):
                            c = xterm256(params[j + 2])
                            j += 2
                        elif params[j + 1] == 2 and j + 4 < len(params):
                            c = tuple(params[j + 2:j + 5])
                            j += 4
                        else:
                            c = None
                        if p == 38:
                            fg = c
                        else:
                            bg = c
                    j += 1
                i += m.end()
                continue
            if line[i] == "\x1b":  # other escape: skip it
                m = re.match(r"\x1b\[[0-9;?]*[A-Za-z]", line[i:])
                i += m.end() if m else 1
                continue
            f, b = fg or DEFAULT_FG, bg or DEFAULT_BG
            if reverse:
                f, b = b, f
            row.append((line[i], f, b, bold))
            i += 1
        rows.append(row)
    return rows


def main():
    src, out = sys.argv[1], sys.argv[2]
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else None
    nrows = int(sys.argv[4]) if len(sys.argv) > 4 else None
    rows = parse(open(src, encoding="utf-8", errors="replace").read().rstrip("\n"))
    cols = cols or max((len(r) for r in rows), default=80)
    nrows = nrows or len(rows)
    size = 15
    font, bold = load_font(FONT_PATHS, size), load_font(BOLD_PATHS, size)
    cw = round(font.getlength("M"))
    ch = size + 4
    pad = 10
    img = Image.new("RGB", (cols * cw + 2 * pad, nrows * ch + 2 * pad), DEFAULT_BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows[:nrows]):
        for x, (c, f, b, bo) in enumerate(row[:cols]):
            px, py = pad + x * cw, pad + y * ch
            if b != DEFAULT_BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=b)
            if c != " ":
                d.text((px, py + 1), c, font=bold if bo else font, fill=f)
    img.save(out)


if __name__ == "__main__":
    main()
