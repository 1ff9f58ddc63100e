// The markdown subset docs/ is written in (headings, paragraphs, fenced code, tables, nested
// lists, `code`, **bold**, *italic*, [links](url), <https://...>), rendered as terminal text
// for `grpcdx help` and as roff for the man page, so both come from the same pages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace grpcdx::report::markdown {

enum class BlockKind { heading, paragraph, code, table, item };

// One block of a page. `depth` is how deep in list items it sits (0: top level).
struct Block {
  BlockKind kind = BlockKind::paragraph;
  int level = 0;              // heading: 1 for '#', 2 for '##', ...
  int depth = 0;
  bool blank_before = false;  // a blank line separated it from the previous block
  std::string text;           // heading, paragraph, item: the inline markdown, lines joined
  std::string marker;         // item: "-" or "3."
  std::vector<std::string> lines;               // code: the lines, indentation of the fence removed
  std::vector<std::vector<std::string>> rows;   // table: header row first, separator row dropped
};

// Splits a page into blocks. Never fails: anything that is not a recognised block is text.
std::vector<Block> parse(std::string_view markdown);

struct TextOptions {
  int width = 80;      // wrap paragraphs to this many columns (at least 40 is used)
  bool color = false;  // ANSI bold/italic/colour for headings, code and emphasis
  int indent = 2;      // left margin of the body (headings stay at column 0)
};

// Terminal text: headings in bold, paragraphs and list items wrapped to the width, code blocks
// verbatim, tables as aligned columns (two short columns) or as term/description pairs.
std::string to_text(std::string_view markdown, const TextOptions& options);

// man(7) roff for the body of a section: '#' headings are left out (the caller writes .SH),
// '##' become .SS, '###' a bold line; code is .nf/.fi; tables are .TP lists; list items .IP.
// Everything is escaped (backslashes, dashes, quotes, leading dots, non-ASCII as \[uXXXX]).
std::string to_roff(std::string_view markdown);

// Escapes plain text for roff (as to_roff does for every piece of text).
std::string roff_escape(std::string_view text);

// The page cut at its '## ' headings: the first section (title empty) is what comes before the
// first one, including a '#' title; each other section has the heading's text as title and the
// lines under it as body.
struct Section {
  std::string title;
  std::string body;
};
std::vector<Section> split_sections(std::string_view markdown);

// The inline markdown as plain text: markup removed, escapes resolved, links as their text.
std::string plain(std::string_view inline_markdown);

}  // namespace grpcdx::report::markdown
