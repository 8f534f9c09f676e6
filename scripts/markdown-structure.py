#!/usr/bin/env python3
"""Renders markdown from stdin with GitHub's cmark-gfm (the `cmarkgfm` package, raw HTML kept)
and prints its block structure as JSON, for hk's PR-comment injection tests (docs/SECURITY.md):
headings, images, links, HTML tags, HTML comments (and whether one is left open), and
`@mentions` in text outside code."""
import json
import re
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

source = sys.stdin.read()
html = cmarkgfm.github_flavored_markdown_to_html(source, options=Options.CMARK_OPT_UNSAFE)


class Walker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.headings = []
        self.heading = None
        self.images = 0
        self.links = []
        self.tags = set()
        self.comments = 0
        self.mentions = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "img":
            self.images += 1
            return
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = ""
        if tag not in ("br", "hr", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self.heading is not None:
            self.headings.append(self.heading.strip())
            self.heading = None
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.heading is not None:
            self.heading += data
        if "code" in self.stack or "pre" in self.stack:
            return
        for m in re.finditer(r"(?:^|[^\w`])@([A-Za-z0-9][A-Za-z0-9-]*)", data):
            self.mentions.append(m.group(1))

    def handle_comment(self, data):
        self.comments += 1


w = Walker()
w.feed(html)
# An HTML comment that never closes is left unparsed in the parser's buffer.
unclosed = "<!--" in w.rawdata
w.close()
json.dump(
    {
        "headings": w.headings,
        "images": w.images,
        "links": w.links,
        "tags": sorted(w.tags),
        "comments": w.comments,
        "unclosedComment": unclosed,
        "mentions": w.mentions,
    },
    sys.stdout,
)
