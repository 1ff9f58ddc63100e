// Parsing the docs/ markdown subset into blocks, and rendering the blocks as text or roff.
#include "report/markdown.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace grpcdx::report::markdown {

namespace {

// ---- Block parsing -----------------------------------------------------------------------

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

int indent_of(std::string_view line) {
  int n = 0;
  for (char c : line) {
    if (c == ' ') ++n;
    else if (c == '\t') n += 4;
    else break;
  }
  return n;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

bool is_fence(std::string_view line) { return trim(line).starts_with("```"); }

int heading_level(std::string_view line) {
  int n = 0;
  while (n < static_cast<int>(line.size()) && line[static_cast<size_t>(n)] == '#') ++n;
  if (n == 0 || n > 6 || static_cast<size_t>(n) >= line.size() || line[static_cast<size_t>(n)] != ' ') return 0;
  return n;
}

// "- text", "* text", "12. text": the marker ("-" or "12.") and the text, or an empty marker.
std::pair<std::string, std::string_view> list_marker(std::string_view stripped) {
  if ((stripped.starts_with("- ") || stripped.starts_with("* ")) && stripped.size() > 2)
    return {"-", stripped.substr(2)};
  size_t i = 0;
  while (i < stripped.size() && i < 3 && std::isdigit(static_cast<unsigned char>(stripped[i]))) ++i;
  if (i > 0 && i + 1 < stripped.size() && stripped[i] == '.' && stripped[i + 1] == ' ')
    return {std::string(stripped.substr(0, i + 1)), stripped.substr(i + 2)};
  return {"", {}};
}

bool is_table_row(std::string_view line) { return trim(line).starts_with("|"); }

bool starts_block(std::string_view line) {
  std::string_view s = trim(line);
  return is_fence(line) || heading_level(s) > 0 || is_table_row(line) || !list_marker(s).first.empty();
}

// The cells of "| a | b \| c |" (escaped pipes stay in the cell, as "\|").
std::vector<std::string> table_cells(std::string_view line) {
  std::string_view s = trim(line);
  if (s.starts_with('|')) s.remove_prefix(1);
  if (s.ends_with('|') && !s.ends_with("\\|")) s.remove_suffix(1);
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '|') {
      cell += "\\|";
      ++i;
    } else if (s[i] == '|') {
      cells.emplace_back(trim(cell));
      cell.clear();
    } else {
      cell += s[i];
    }
  }
  cells.emplace_back(trim(cell));
  return cells;
}

bool is_separator_row(const std::vector<std::string>& cells) {
  for (const auto& c : cells) {
    if (c.empty()) return false;
    for (char ch : c)
      if (ch != '-' && ch != ':') return false;
  }
  return !cells.empty();
}

// ---- Inline markup -------------------------------------------------------------------------

enum Style : unsigned { k_plain = 0, k_code = 1, k_bold = 2, k_italic = 4 };

struct Span {
  std::string text;
  unsigned style = k_plain;
  std::string url;  // a link's target (the span is its text)
};

bool is_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

void parse_inline(std::string_view s, unsigned style, std::vector<Span>& out) {
  std::string text;
  auto flush = [&] {
    if (!text.empty()) out.push_back({std::move(text), style, {}});
    text.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && is_punct(s[i + 1])) {
      text += s[++i];
      continue;
    }
    if (c == '`') {
      size_t ticks = 1;
      while (i + ticks < s.size() && s[i + ticks] == '`') ++ticks;
      std::string fence(ticks, '`');
      auto close = s.find(fence, i + ticks);
      if (close != std::string_view::npos) {
        flush();
        std::string_view code = s.substr(i + ticks, close - i - ticks);
        if (ticks > 1) code = trim(code);
        // Inside code only "\|" is an escape (a pipe in a table cell).
        std::string literal;
        for (size_t k = 0; k < code.size(); ++k) {
          if (code[k] == '\\' && k + 1 < code.size() && code[k + 1] == '|') continue;
          literal += code[k];
        }
        out.push_back({std::move(literal), style | k_code, {}});
        i = close + ticks - 1;
        continue;
      }
    }
    if (c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      auto close = s.find("**", i + 2);
      if (close != std::string_view::npos && close > i + 2 && s[i + 2] != ' ' && s[close - 1] != ' ') {
        flush();
        parse_inline(s.substr(i + 2, close - i - 2), style | k_bold, out);
        i = close + 1;
        continue;
      }
    }
    if (c == '*' && i + 1 < s.size() && s[i + 1] != ' ' && s[i + 1] != '*') {
      auto close = s.find('*', i + 1);
      if (close != std::string_view::npos && s[close - 1] != ' ') {
        flush();
        parse_inline(s.substr(i + 1, close - i - 1), style | k_italic, out);
        i = close;
        continue;
      }
    }
    if (c == '<' && (s.substr(i + 1).starts_with("http://") || s.substr(i + 1).starts_with("https://"))) {
      auto close = s.find('>', i + 1);
      if (close != std::string_view::npos) {
        flush();
        std::string url(s.substr(i + 1, close - i - 1));
        out.push_back({url, style, url});
        i = close;
        continue;
      }
    }
    if (c == '[') {
      auto close = s.find("](", i + 1);
      auto end = close == std::string_view::npos ? close : s.find(')', close + 2);
      if (close != std::string_view::npos && end != std::string_view::npos &&
          s.substr(i + 1, close - i - 1).find('[') == std::string_view::npos) {
        flush();
        size_t first = out.size();
        parse_inline(s.substr(i + 1, close - i - 1), style, out);
        std::string url(s.substr(close + 2, end - close - 2));
        for (size_t k = first; k < out.size(); ++k) out[k].url = url;
        i = end;
        continue;
      }
    }
    text += c;
  }
  flush();
}

std::vector<Span> spans_of(std::string_view s) {
  std::vector<Span> out;
  parse_inline(s, k_plain, out);
  return out;
}

bool is_external(const std::string& url) { return url.starts_with("http://") || url.starts_with("https://"); }

// Spans with each external link's address appended after its text: "text (https://...)".
std::vector<Span> with_link_targets(std::vector<Span> spans) {
  std::vector<Span> out;
  for (size_t i = 0; i < spans.size(); ++i) {
    out.push_back(spans[i]);
    const bool last_of_link = !spans[i].url.empty() && (i + 1 == spans.size() || spans[i + 1].url != spans[i].url);
    if (last_of_link && is_external(spans[i].url)) {
      std::string text = out.back().text;
      if (text != spans[i].url) out.push_back({" <" + spans[i].url + ">", k_plain, {}});
    }
  }
  return out;
}

size_t visible_length(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// ---- Text rendering -----------------------------------------------------------------------

struct Word {
  std::string rendered;
  size_t length = 0;
};

std::string ansi_open(unsigned style) {
  std::string codes;
  auto add = [&](const char* c) { codes += codes.empty() ? c : std::string(";") + c; };
  if (style & k_bold) add("1");
  if (style & k_italic) add("3");
  if (style & k_code) add("36");
  return codes.empty() ? std::string() : "\x1b[" + codes + "m";
}

std::vector<Word> words_of(std::string_view inline_md, bool color, unsigned extra_style = k_plain) {
  std::vector<Word> words;
  Word current;
  bool in_word = false;
  for (const auto& span : with_link_targets(spans_of(inline_md))) {
    const unsigned style = span.style | extra_style;
    const std::string open = color ? ansi_open(style) : std::string();
    std::string chunk;
    auto flush_chunk = [&] {
      if (chunk.empty()) return;
      current.rendered += open.empty() ? chunk : open + chunk + "\x1b[0m";
      current.length += visible_length(chunk);
      chunk.clear();
      in_word = true;
    };
    for (char c : span.text) {
      if (c == ' ' || c == '\n' || c == '\t') {
        flush_chunk();
        if (in_word) words.push_back(std::move(current));
        current = {};
        in_word = false;
      } else {
        chunk += c;
      }
    }
    flush_chunk();
  }
  if (in_word) words.push_back(std::move(current));
  return words;
}

// Words filled into lines of at most `width` columns; the first line starts at `first_indent`
// (already written by the caller when `first_prefix_written`), the others at `indent`.
std::string fill(const std::vector<Word>& words, int indent, int width, size_t first_column) {
  std::string out;
  size_t column = first_column;
  bool line_empty = true;
  for (const auto& w : words) {
    if (!line_empty && column + 1 + w.length > static_cast<size_t>(width)) {
      out += "\n" + std::string(static_cast<size_t>(indent), ' ');
      column = static_cast<size_t>(indent);
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    out += w.rendered;
    column += w.length;
    line_empty = false;
  }
  return out + "\n";
}


}  // namespace

std::vector<Block> parse(std::string_view markdown) {
  std::vector<Block> blocks;
  std::vector<int> item_columns;  // the content column of each open list item
  bool blank = false;
  auto lines = split_lines(markdown);
  auto depth_for = [&](int indent) {
    while (!item_columns.empty() && indent < item_columns.back()) item_columns.pop_back();
    return static_cast<int>(item_columns.size());
  };
  size_t i = 0;
  auto push = [&](Block b) {
    b.blank_before = blank && !blocks.empty();
    blank = false;
    blocks.push_back(std::move(b));
  };
  while (i < lines.size()) {
    std::string_view line = lines[i];
    if (is_blank(line)) {
      blank = true;
      ++i;
      continue;
    }
    const int indent = indent_of(line);
    std::string_view stripped = trim(line);
    if (is_fence(line)) {
      Block b;
      b.kind = BlockKind::code;
      b.depth = depth_for(indent);
      ++i;
      while (i < lines.size() && !is_fence(lines[i])) {
        std::string_view code = lines[i];
        const int strip = std::min(indent, indent_of(code));
        code.remove_prefix(static_cast<size_t>(std::min<int>(strip, static_cast<int>(code.size()))));
        std::string expanded;
        for (char c : code) expanded += c == '\t' ? std::string("    ") : std::string(1, c);
        b.lines.push_back(std::move(expanded));
        ++i;
      }
      ++i;  // the closing fence (or the end of the page)
      push(std::move(b));
      continue;
    }
    if (int level = heading_level(stripped); level > 0 && indent < 4) {
      item_columns.clear();
      Block b;
      b.kind = BlockKind::heading;
      b.level = level;
      b.text = std::string(trim(stripped.substr(static_cast<size_t>(level))));
      push(std::move(b));
      ++i;
      continue;
    }
    if (is_table_row(line)) {
      Block b;
      b.kind = BlockKind::table;
      b.depth = depth_for(indent);
      while (i < lines.size() && is_table_row(lines[i])) {
        auto cells = table_cells(lines[i]);
        if (!is_separator_row(cells)) b.rows.push_back(std::move(cells));
        ++i;
      }
      push(std::move(b));
      continue;
    }
    Block b;
    auto [marker, rest] = list_marker(stripped);
    if (!marker.empty()) {
      b.kind = BlockKind::item;
      b.depth = depth_for(indent);
      b.marker = marker;
      item_columns.push_back(indent + static_cast<int>(stripped.size() - rest.size()));
      b.text = std::string(trim(rest));
    } else {
      b.kind = BlockKind::paragraph;
      b.depth = depth_for(indent);
      b.text = std::string(stripped);
    }
    ++i;
    // Continuation lines: anything up to a blank line or the start of another block.
    while (i < lines.size() && !is_blank(lines[i]) && !starts_block(lines[i])) {
      b.text += " " + std::string(trim(lines[i]));
      ++i;
    }
    push(std::move(b));
  }
  return blocks;
}

std::string plain(std::string_view inline_md) {
  std::string out;
  for (const auto& span : spans_of(inline_md)) out += span.text;
  return out;
}

namespace {

// The widest first cell of a table's body rows, as printed (both renderers align the
// descriptions of a two-column table just after it).
size_t term_column_width(const std::vector<std::vector<std::string>>& rows) {
  size_t width = 0;
  for (size_t r = 1; r < rows.size(); ++r)
    if (!rows[r].empty()) width = std::max(width, visible_length(plain(rows[r].front())));
  return width;
}

}  // namespace

std::string to_text(std::string_view markdown, const TextOptions& options) {
  const int width = std::max(options.width, 40);
  const bool color = options.color;
  std::string out;
  std::vector<int> content_indent = {options.indent};  // by depth
  bool last_blank = true;
  auto blank_line = [&] {
    if (!last_blank) out += "\n";
    last_blank = true;
  };
  for (const auto& b : parse(markdown)) {
    if (b.blank_before || b.kind == BlockKind::heading) blank_line();
    const int depth = std::min<int>(b.depth, static_cast<int>(content_indent.size()) - 1);
    content_indent.resize(static_cast<size_t>(depth) + 1);
    const int indent = content_indent.back();
    const std::string pad(static_cast<size_t>(indent), ' ');
    switch (b.kind) {
      case BlockKind::heading: {
        const int at = b.level <= 2 ? 0 : options.indent;
        out += std::string(static_cast<size_t>(at), ' ') +
               fill(words_of(b.text, color, k_bold), at, width, static_cast<size_t>(at));
        content_indent = {options.indent};
        break;
      }
      case BlockKind::paragraph:
        out += pad + fill(words_of(b.text, color), indent, width, static_cast<size_t>(indent));
        break;
      case BlockKind::item: {
        const std::string mark = b.marker == "-" ? "\u2022 " : b.marker + " ";
        const int hang = indent + static_cast<int>(visible_length(mark));
        out += pad + mark + fill(words_of(b.text, color), hang, width, static_cast<size_t>(hang));
        content_indent.push_back(hang);
        break;
      }
      case BlockKind::code:
        for (const auto& line : b.lines) out += pad + "  " + line + "\n";
        break;
      case BlockKind::table: {
        if (b.rows.size() < 2) break;
        const auto& header = b.rows.front();
        const size_t term_width = term_column_width(b.rows);
        const size_t columns = header.size();
        const bool aligned = columns == 2 && term_width <= std::min<size_t>(24, static_cast<size_t>(width) / 3);
        for (size_t r = 1; r < b.rows.size(); ++r) {
          const auto& row = b.rows[r];
          const std::string term = fill(words_of(row.empty() ? "" : row[0], color, k_bold), indent, 1 << 20, 0);
          const std::string term_text = term.substr(0, term.size() - 1);  // without the newline
          const size_t term_len = visible_length(plain(row.empty() ? "" : row[0]));
          if (aligned) {
            const int hang = indent + static_cast<int>(term_width) + 2;
            out += pad + term_text + std::string(term_width + 2 - term_len, ' ');
            out += fill(words_of(row.size() > 1 ? row[1] : "", color), hang, width, static_cast<size_t>(hang));
            continue;
          }
          if (columns > 2 && r > 1) out += "\n";
          out += pad + fill(words_of(row.empty() ? "" : row[0], color, k_bold), indent, width, static_cast<size_t>(indent));
          for (size_t c = 1; c < row.size(); ++c) {
            std::string cell = row[c];
            if (columns > 2 && c < header.size()) cell = "*" + plain(header[c]) + ":* " + cell;
            const int hang = indent + 4;
            out += std::string(static_cast<size_t>(hang), ' ') +
                   fill(words_of(cell, color), hang, width, static_cast<size_t>(hang));
          }
        }
        break;
      }
    }
    last_blank = false;
  }
  return out;
}

std::string roff_escape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\': out += "\\e"; break;
        case '-': out += "\\-"; break;
        case '\'': out += "\\(aq"; break;
        case '`': out += "\\(ga"; break;
        case '~': out += "\\(ti"; break;
        case '^': out += "\\(ha"; break;
        case '\t': out += "    "; break;
        default: out += static_cast<char>(c);
      }
      continue;
    }
    // A UTF-8 sequence, written as groff's \[uXXXX] so the page needs no input encoding.
    const size_t extra = c >= 0xF8 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    bool valid = extra > 0 && i + extra < text.size();
    for (size_t k = 1; valid && k <= extra; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (!valid) {  // a stray, invalid or truncated byte
      out += "?";
      continue;
    }
    uint32_t cp = extra == 3 ? c & 0x07u : extra == 2 ? c & 0x0Fu : c & 0x1Fu;
    for (size_t k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    i += extra;
    out += fmt::format("\\[u{:04X}]", cp);
  }
  return out;
}

namespace {

std::string roff_inline(std::string_view inline_md, unsigned extra_style = k_plain) {
  std::string out;
  for (const auto& span : with_link_targets(spans_of(inline_md))) {
    std::string text = roff_escape(span.text);
    const unsigned style = span.style | extra_style;
    if (style & (k_code | k_bold)) out += "\\fB" + text + "\\fR";
    else if (style & k_italic) out += "\\fI" + text + "\\fR";
    else out += text;
  }
  // A line that starts with a dot or a quote would be read as a request.
  return "\\&" + out;
}

}  // namespace

std::string to_roff(std::string_view markdown) {
  std::string out;
  std::vector<int> rs_widths;  // the .RS levels open, by depth
  std::vector<int> item_widths = {0};
  auto set_depth = [&](int depth) {
    while (static_cast<int>(rs_widths.size()) > depth) {
      out += ".RE\n";
      rs_widths.pop_back();
    }
    while (static_cast<int>(rs_widths.size()) < depth) {
      const size_t d = rs_widths.size() + 1;
      const int w = d < item_widths.size() ? item_widths[d] : 2;
      out += fmt::format(".RS {}\n", w);
      rs_widths.push_back(w);
    }
  };
  for (const auto& b : parse(markdown)) {
    if (b.kind == BlockKind::heading) {
      set_depth(0);
      item_widths = {0};
      if (b.level == 1) continue;
      if (b.level == 2) {
        std::string title = roff_inline(b.text).substr(2);
        for (size_t at = title.find('"'); at != std::string::npos; at = title.find('"', at)) title.replace(at, 1, "\\(dq");
        out += ".SS \"" + title + "\"\n";
      }
      else out += ".PP\n" + roff_inline(b.text, k_bold) + "\n";
      continue;
    }
    set_depth(b.depth);
    item_widths.resize(static_cast<size_t>(b.depth) + 1);
    switch (b.kind) {
      case BlockKind::paragraph:
        out += ".PP\n" + roff_inline(b.text) + "\n";
        break;
      case BlockKind::item: {
        const int w = b.marker == "-" ? 2 : static_cast<int>(b.marker.size()) + 1;
        out += fmt::format(".IP {} {}\n", b.marker == "-" ? "\\(bu" : b.marker, w);
        out += roff_inline(b.text) + "\n";
        item_widths.push_back(w);
        break;
      }
      case BlockKind::code:
        out += ".PP\n.RS 2\n.nf\n";
        for (const auto& line : b.lines) out += "\\&" + roff_escape(line) + "\n";
        out += ".fi\n.RE\n";
        break;
      case BlockKind::table: {
        if (b.rows.size() < 2) break;
        const auto& header = b.rows.front();
        // Two columns with short terms: the descriptions start just after the longest term.
        const size_t term_width = term_column_width(b.rows);
        const std::string tp = header.size() == 2 && term_width <= 20 ? fmt::format(".TP {}\n", term_width + 2) : ".TP\n";
        for (size_t r = 1; r < b.rows.size(); ++r) {
          const auto& row = b.rows[r];
          out += tp + roff_inline(row.empty() ? "" : row[0], k_bold) + "\n";
          for (size_t c = 1; c < row.size(); ++c) {
            if (c > 1) out += ".br\n";
            if (header.size() > 2 && c < header.size())
              out += "\\fI" + roff_escape(plain(header[c])) + ":\\fR " + roff_inline(row[c]).substr(2) + "\n";
            else
              out += roff_inline(row[c]) + "\n";
          }
        }
        break;
      }
      case BlockKind::heading: break;
    }
  }
  set_depth(0);
  return out;
}

std::vector<Section> split_sections(std::string_view markdown) {
  std::vector<Section> sections(1);
  bool in_code = false;
  for (auto line : split_lines(markdown)) {
    if (is_fence(line)) in_code = !in_code;
    if (!in_code && heading_level(line) == 2) {
      sections.push_back({std::string(trim(line.substr(2))), {}});
      continue;
    }
    sections.back().body += std::string(line) + "\n";
  }
  return sections;
}

}  // namespace grpcdx::report::markdown
