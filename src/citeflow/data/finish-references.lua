-- Pandoc Lua filter run right after --citeproc (see citeflow.output.render.citeproc_ast).
--
-- * Every DOI in the reference list (the div #refs) that is not yet inside a link becomes
--   a link to https://doi.org/DOI.
-- * A reference list without entries is removed, with the References heading before it.
--
-- The document is only touched where the reference list is, so the filter costs next to
-- nothing on long manuscripts.

local REFS_HEADINGS = {
  ["references"] = true, ["bibliography"] = true,
  ["works cited"] = true, ["literature cited"] = true,
}

-- Where a run of non-whitespace ends: ASCII whitespace (and \28-\31) or a Unicode space
-- (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
local SPACES = {
  "[%s\28-\31]", "\194[\133\160]", "\225\154\128", "\226\128[\128-\138\168\169\175]",
  "\226\129\159", "\227\128\128",
}

local function next_space(text, init)
  local first = #text + 1
  for _, pattern in ipairs(SPACES) do
    local at = text:find(pattern, init)
    if at and at < first then
      first = at
    end
  end
  return first
end

-- The first DOI in text ("10." 4 to 9 digits "/" then non-whitespace, without trailing
-- ".,;"): its start and the DOI, or nil.
local function find_doi(text)
  local init = 1
  while true do
    local start, slash = text:find("10%.%d%d%d%d%d?%d?%d?%d?%d?/", init)
    if not start then
      return nil
    end
    local stop = next_space(text, slash + 1)
    if stop > slash + 1 then
      local doi = text:sub(start, stop - 1):gsub("[.,;]+$", "")
      return start, doi
    end
    init = start + 1
  end
end

local function link_dois(inlines)
  local out, changed = pandoc.Inlines{}, false
  for _, item in ipairs(inlines) do
    local start, doi
    if item.t == "Str" then
      start, doi = find_doi(item.text)
    end
    if start then
      changed = true
      local text = item.text
      repeat
        if start > 1 then
          out:insert(pandoc.Str(text:sub(1, start - 1)))
        end
        out:insert(pandoc.Link(pandoc.Inlines{pandoc.Str(doi)}, "https://doi.org/" .. doi))
        text = text:sub(start + #doi)
        start, doi = find_doi(text)
      until not start
      if text ~= "" then
        out:insert(pandoc.Str(text))
      end
    else
      out:insert(item)
    end
  end
  if changed then
    return out
  end
end

local WRAPPERS = {
  Emph = true, Strong = true, Underline = true, Strikeout = true,
  Superscript = true, Subscript = true, SmallCaps = true,
}

-- The text of inlines, markup dropped (as citeflow.pandoc.plain_text).
local function plain_text(inlines)
  local parts = {}
  for _, item in ipairs(inlines) do
    local t = item.t
    if t == "Str" or t == "Code" or t == "Math" or t == "RawInline" then
      parts[#parts + 1] = item.text
    elseif t == "Space" or t == "SoftBreak" or t == "LineBreak" then
      parts[#parts + 1] = " "
    elseif t == "Quoted" then
      local mark = item.quotetype == "DoubleQuote" and '"' or "'"
      parts[#parts + 1] = mark .. plain_text(item.content) .. mark
    elseif t == "Image" then
      parts[#parts + 1] = plain_text(item.caption)
    elseif t == "Link" or t == "Span" or t == "Cite" or WRAPPERS[t] then
      parts[#parts + 1] = plain_text(item.content)
    end
  end
  return table.concat(parts)
end

local function is_refs(block)
  return block.t == "Div" and block.identifier == "refs"
end

-- Link the DOIs of the reference list; true when it has at least one entry.
local function finish(refs)
  local entries = 0
  refs.content:walk{
    Div = function(div)
      if div.identifier:sub(1, 4) == "ref-" then
        entries = entries + 1
      end
    end,
  }
  refs.content = refs.content:walk{
    traverse = "topdown",
    Link = function(link) return link, false end,
    Inlines = link_dois,
  }
  return entries > 0
end

function Pandoc(doc)
  local blocks = doc.blocks
  -- Usually the last top-level block; an empty one is removed with its heading.
  for index = #blocks, 1, -1 do
    if is_refs(blocks[index]) then
      if not finish(blocks[index]) then
        blocks:remove(index)
        local before = blocks[index - 1]
        if before and before.t == "Header" then
          local title = plain_text(before.content):match("^%s*(.-)%s*$"):lower()
          if REFS_HEADINGS[title] then
            blocks:remove(index - 1)
          end
        end
      end
      doc.blocks = blocks
      return doc
    end
  end
  -- Elsewhere (inside another div): the first one in document order.
  local found = false
  doc.blocks = blocks:walk{
    traverse = "topdown",
    Div = function(div)
      if not found and is_refs(div) then
        found = true
        finish(div)
        return div, false
      end
    end,
  }
  return doc
end
