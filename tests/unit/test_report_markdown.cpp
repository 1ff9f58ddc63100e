// Unit tests for report::markdown: the block parser (nested lists, code in lists, tables with
// escaped pipes), the text renderer (wrapping, colour, tables) and the roff renderer (escaping).
#include <doctest.h>

#include <string>

#include "report/markdown.hpp"

namespace md = grpcdx::report::markdown;

TEST_CASE("markdown::parse finds headings, paragraphs, code, tables and nested list items") {
  const auto blocks = md::parse(
      "# Title\n\nFirst line\nsecond line.\n\n```sh\ngrpcdx list\n```\n\n"
      "| flag | meaning |\n|---|---|\n| `-o text\\|json` | format |\n\n"
      "1. Step one:\n\n   ```\n   indented code\n   ```\n\n   More text.\n   - nested\n     continued\n2. Step two\n\nAfter.\n");
  REQUIRE(blocks.size() == 10);
  CHECK(blocks[0].kind == md::BlockKind::heading);
  CHECK(blocks[0].level == 1);
  CHECK(blocks[0].text == "Title");
  CHECK(blocks[1].kind == md::BlockKind::paragraph);
  CHECK(blocks[1].text == "First line second line.");
  CHECK(blocks[2].kind == md::BlockKind::code);
  CHECK(blocks[2].lines == std::vector<std::string>{"grpcdx list"});
  CHECK(blocks[3].kind == md::BlockKind::table);
  REQUIRE(blocks[3].rows.size() == 2);
  CHECK(blocks[3].rows[1][0] == "`-o text\\|json`");
  CHECK(blocks[4].kind == md::BlockKind::item);
  CHECK(blocks[4].marker == "1.");
  CHECK(blocks[4].depth == 0);
  CHECK(blocks[5].kind == md::BlockKind::code);
  CHECK(blocks[5].depth == 1);
  CHECK(blocks[5].lines == std::vector<std::string>{"indented code"});
  CHECK(blocks[6].kind == md::BlockKind::paragraph);
  CHECK(blocks[6].depth == 1);
  CHECK(blocks[7].kind == md::BlockKind::item);
  CHECK(blocks[7].depth == 1);
  CHECK(blocks[7].text == "nested continued");
  CHECK(blocks[8].depth == 0);
  CHECK(blocks[8].marker == "2.");
  CHECK(blocks[9].depth == 0);
  CHECK(blocks[9].text == "After.");
}

TEST_CASE("markdown::plain removes inline markup") {
  CHECK(md::plain("a `b|c` **bold** *it* [link](x.md) \\*star\\*") == "a b|c bold it link *star*");
  CHECK(md::plain("`-o text\\|json`") == "-o text|json");
  CHECK(md::plain("see <https://no-color.org>") == "see https://no-color.org");
  CHECK(md::plain("5 * 3 and a*b") == "5 * 3 and a*b");
}

TEST_CASE("markdown::to_text wraps paragraphs to the width, with the indent") {
  md::TextOptions options;
  options.width = 40;
  const std::string text = md::to_text(
      "# T\n\nword word word word word word word word word word word word word word\n", options);
  CHECK(text ==
        "T\n\n"
        "  word word word word word word word\n"
        "  word word word word word word word\n");
}

TEST_CASE("markdown::to_text: list items hang, code stays verbatim, links show external targets") {
  md::TextOptions options;
  options.width = 60;
  const std::string text = md::to_text(
      "- one `code` item\n- two [docs](bench.md) and [site](https://example.com)\n\n```\n  keep   spacing\n```\n",
      options);
  CHECK(text ==
        "  \u2022 one code item\n"
        "  \u2022 two docs and site <https://example.com>\n"
        "\n"
        "      keep   spacing\n");
}

TEST_CASE("markdown::to_text: colour only when asked") {
  md::TextOptions options;
  CHECK(md::to_text("## Head\n\nuse `grpcdx`\n", options) == "Head\n\n  use grpcdx\n");
  options.color = true;
  const std::string colored = md::to_text("## Head\n\nuse `grpcdx`\n", options);
  CHECK(colored == "\x1b[1mHead\x1b[0m\n\n  use \x1b[36mgrpcdx\x1b[0m\n");
}

TEST_CASE("markdown::to_text: two short columns align, wider tables become term and description") {
  md::TextOptions options;
  options.width = 50;
  CHECK(md::to_text("| code | meaning |\n|---|---|\n| 0 | success |\n| 64 + N | the RPC ended with status N, "
                    "which is a long text |\n",
                    options) ==
        "  0       success\n"
        "  64 + N  the RPC ended with status N, which is a\n"
        "          long text\n");
  CHECK(md::to_text("| fault | effect | client sees |\n|---|---|---|\n| `drop` | never answers | DEADLINE |\n",
                    options) ==
        "  drop\n"
        "      effect: never answers\n"
        "      client sees: DEADLINE\n");
}

TEST_CASE("markdown::roff_escape escapes what roff would interpret") {
  CHECK(md::roff_escape("a-b \\ 'q' `t`") == "a\\-b \\e \\(aqq\\(aq \\(gat\\(ga");
  CHECK(md::roff_escape("dns \u2192 tcp") == "dns \\[u2192] tcp");
  CHECK(md::roff_escape("bad \xff byte") == "bad ? byte");
}

TEST_CASE("markdown::to_roff: sections, paragraphs, code, tables and lists") {
  const std::string roff = md::to_roff(
      "# Title\n\nText with `--flag` and **bold**.\n\n## Flags\n\n| flag | meaning |\n|---|---|\n| `-c N` | calls |\n\n"
      "```\n.starts with a dot\n```\n\n- item\n\n  continued\n");
  CHECK(roff ==
        ".PP\n\\&Text with \\fB\\-\\-flag\\fR and \\fBbold\\fR.\n"
        ".SS \"Flags\"\n"
        ".TP 6\n\\&\\fB\\-c N\\fR\n\\&calls\n"
        ".PP\n.RS 2\n.nf\n\\&.starts with a dot\n.fi\n.RE\n"
        ".IP \\(bu 2\n\\&item\n"
        ".RS 2\n.PP\n\\&continued\n.RE\n");
}

TEST_CASE("markdown::split_sections cuts at level-2 headings, not inside code") {
  const auto sections = md::split_sections("# T\n\nintro\n\n## One\n\n```\n## not a heading\n```\n## Two\nx\n");
  REQUIRE(sections.size() == 3);
  CHECK(sections[0].title.empty());
  CHECK(sections[0].body == "# T\n\nintro\n\n");
  CHECK(sections[1].title == "One");
  CHECK(sections[1].body == "\n```\n## not a heading\n```\n");
  CHECK(sections[2].title == "Two");
  CHECK(sections[2].body == "x\n");
}
