-- Pandoc Lua filter run right before --citeproc (see citeflow.output.render): what a manuscript
-- may bring into the outputs. docs/security.md has the threat model.
--
-- Always:
-- * citeproc reads the bibliographies citeflow has checked and nothing else: `bibliography`
--   is set from CITEFLOW_BIBLIOGRAPHY (one path a line; set by citeflow, never by the
--   manuscript), and the manuscript's `citation-abbreviations` (a file citeproc would read)
--   is dropped; citeflow's own journal abbreviations file, if any, is CITEFLOW_ABBREVIATIONS.
--
-- Unless CITEFLOW_GUARD (below) says "trusted", an untrusted manuscript loses:
-- * raw HTML, Typst and OpenXML (blocks and inlines, in the text and in the metadata);
--   HTML comments go silently, citeflow's own review tags stay;
-- * metadata that a template pastes in as markup or code: header-includes, include-before,
--   include-after, css, template, and Typst settings (fontsize, margin, ...) whose value
--   is more than plain words, numbers and lengths;
-- * event-handler attributes (onclick=...) and attributes or links whose target runs a
--   script (javascript:, vbscript:, data:);
-- * `typst:` attributes ({typst:text:fill="..."}), which Pandoc's Typst writer pastes in
--   as Typst code.
--
-- Every drop is reported on stderr as one line "citeflow-dropped<TAB>KIND<TAB>DETAIL",
-- which citeflow turns into a warning naming the manuscript's line. A trusted manuscript's
-- raw Typst is reported as "citeflow-typst<TAB>TEXT" (citeflow gives Typst the project
-- files it names).

local function report(kind, detail)
  detail = tostring(detail or ""):gsub("[\t\r\n]+", " ")
  io.stderr:write("citeflow-dropped\t" .. kind .. "\t" .. detail:sub(1, 200) .. "\n")
end

-- Raw formats the writers would pass through, by the warning kind that names them.
local RAW_KINDS = {
  html = "raw-html", html4 = "raw-html", html5 = "raw-html",
  typst = "raw-typst", openxml = "raw-openxml",
}

-- The tags citeflow's review inserts (citeflow.output.review): harmless, kept.
local REVIEW_TAGS = {
  '^<mark class="cf%-finding cf%-%a+" id="cf%-hl%-%d+">$',
  '^<sup class="cf%-marker cf%-%a+" data%-cf%-marker="%d+[ %w%-]+">$',
  '^<a id="cf%-finding%-%d+">$',
  '^</mark>$', '^</sup>$', '^</a>$',
}

local function is_review_tag(raw)
  if RAW_KINDS[raw.format] ~= "raw-html" then
    return false
  end
  for _, pattern in ipairs(REVIEW_TAGS) do
    if raw.text:match(pattern) then
      return true
    end
  end
  return false
end

local function is_comment(raw)
  local inner = raw.text:match("^%s*<!%-%-(.-)%-%->%s*$")
  return inner ~= nil and not inner:find("-->", 1, true)
end

local function drop_raw(raw)
  if is_review_tag(raw) then
    return nil
  end
  local kind = RAW_KINDS[raw.format]
  if kind and not (kind == "raw-html" and is_comment(raw)) then
    report(kind, raw.text:match("[^\r\n]*[^%s][^\r\n]*") or raw.text)
  end
  return {}
end

-- True for an address that runs a script when followed: javascript:, vbscript: and (for
-- a link, with `data_too`) data:, whose HTML would run in the browser.
local function runs_script(target, data_too)
  local scheme = tostring(target):gsub("[%s%c]", ""):lower():match("^([%a][%w+.-]*):")
  return scheme == "javascript" or scheme == "vbscript" or (data_too and scheme == "data")
end

local function clean_attributes(el)
  local attributes = el.attr and el.attr.attributes
  if not attributes then
    return nil
  end
  local bad = {}
  for key, value in pairs(attributes) do
    if key:lower():match("^on") or key:lower():match("^typst:") or runs_script(value) then
      bad[#bad + 1] = key
    end
  end
  if #bad == 0 then
    return nil
  end
  for _, key in ipairs(bad) do
    report("attribute", key)
    attributes[key] = nil
  end
  return el
end

local function clean_link(link)
  if runs_script(link.target, true) then
    report("script-link", link.target)
    return pandoc.Span(link.content)
  end
  return clean_attributes(link)
end

local function clean_image(image)
  if runs_script(image.src, false) then
    report("script-link", image.src)
    return pandoc.Span(image.caption)
  end
  return clean_attributes(image)
end

-- Template variables pasted into markup or code as they are.
local VERBATIM_META = { "header-includes", "include-before", "include-after", "css", "template" }
-- Template variables used as Typst code or string content: plain values only.
local CODE_META = {
  "fontsize", "linestretch", "columns", "margin", "toc-depth", "papersize", "mainfont",
  "mathfont", "codefont", "lang", "region", "section-numbering", "page-numbering",
  "table-caption-position", "figure-caption-position",
}

local function clean_meta(meta)
  for _, key in ipairs(VERBATIM_META) do
    if meta[key] ~= nil then
      report("metadata", key)
      meta[key] = nil
    end
  end
  for _, key in ipairs(CODE_META) do
    if meta[key] ~= nil and not pandoc.utils.stringify(meta[key]):match("^[%w%s%.%-%%]*$") then
      report("metadata", key)
      meta[key] = nil
    end
  end
end

local UNTRUSTED = {
  RawBlock = drop_raw, RawInline = drop_raw,
  Link = clean_link, Image = clean_image,
  Span = clean_attributes, Div = clean_attributes, Code = clean_attributes,
  CodeBlock = clean_attributes, Header = clean_attributes, Table = clean_attributes,
  Figure = clean_attributes,
}

-- Typst may read the project files that a trusted manuscript's raw Typst names: citeflow
-- hands them over.
local function show_typst(raw)
  if raw.format == "typst" then
    io.stderr:write("citeflow-typst\t" .. raw.text:gsub("[\t\r\n]", " ") .. "\n")
  end
end

-- CITEFLOW_GUARD (set by citeflow): "untrusted" or "trusted",
-- with "-plain" when the source holds none of the characters raw markup, attributes and
-- script links are written with (< { & \ "script:" "data:"): then nothing needs a walk,
-- which would cost a pass over the whole document.
local MODE = os.getenv("CITEFLOW_GUARD") or "untrusted"
local TRUSTED = MODE:match("^trusted") ~= nil
local PLAIN = MODE:match("%-plain$") ~= nil

local function guard_meta(meta)
  if meta["citation-abbreviations"] ~= nil then
    report("metadata", "citation-abbreviations")
  end
  local abbreviations = os.getenv("CITEFLOW_ABBREVIATIONS") or ""
  meta["citation-abbreviations"] = abbreviations ~= "" and pandoc.MetaString(abbreviations) or nil
  meta["citation-style"] = nil
  local bibliography = pandoc.List{}
  for path in (os.getenv("CITEFLOW_BIBLIOGRAPHY") or ""):gmatch("[^\n]+") do
    bibliography:insert(pandoc.MetaString(path))
  end
  meta.bibliography = #bibliography > 0 and pandoc.MetaList(bibliography) or nil
  if not TRUSTED then
    clean_meta(meta)
  end
  return meta
end

-- CITEFLOW_CITATION_IDS (set by citeflow when a manuscript cites Manubot keys such as
-- @doi:10.7717/peerj.705): a file of "KEY<TAB>ID" lines written by citeflow into the
-- render's private folder. Each citation of KEY is read by citeproc as ID (the bibliography
-- entry of that work); the manuscript itself is never changed.
local function citation_ids()
  local path = os.getenv("CITEFLOW_CITATION_IDS") or ""
  if path == "" then
    return nil
  end
  local ids = {}
  local file = io.open(path, "r")
  if not file then
    return nil
  end
  for line in file:lines() do
    local key, id = line:match("^([^\t]+)\t([^\t]+)$")
    if key then
      ids[key] = id
    end
  end
  file:close()
  return ids
end

local IDS = citation_ids()

-- Keys of one work cited side by side ([@pmid:25648772; @doi:10.7717/peerj.705]) are one
-- citation of it, as Manubot prints them (one with a prefix or locator of its own stays).
local function rename_citations(cite)
  local changed = false
  local kept, seen = pandoc.List{}, {}
  for _, citation in ipairs(cite.citations) do
    local id = IDS[citation.id]
    if id then
      -- Pandoc ends a key before its last punctuation: "[@url:https://peerj.com/articles/705/]"
      -- leaves "/" at the start of the citation's suffix. It belongs to the URL, not to the
      -- citation: only those slashes go, a locator after them stays.
      local first = citation.suffix[1]
      if citation.id:match("^[Uu][Rr][Ll]:") and first and first.t == "Str" then
        local rest = first.text:gsub("^/+", "")
        if rest == "" then
          citation.suffix:remove(1)
        else
          first.text = rest
        end
      end
      citation.id = id
      changed = true
    end
    if seen[citation.id] and #citation.prefix == 0 and #citation.suffix == 0 then
      changed = true
    else
      seen[citation.id] = true
      kept:insert(citation)
    end
  end
  if not changed then
    return nil
  end
  cite.citations = kept
  return cite
end

local filters = { { Meta = guard_meta } }
if not PLAIN then
  filters[#filters + 1] = TRUSTED and { RawBlock = show_typst, RawInline = show_typst } or UNTRUSTED
end
-- An in-text "@url:https://peerj.com/articles/705/." leaves its "/" in the text after the
-- citation; it goes with the key.
local function url_slash_after(inlines)
  for i = 1, #inlines - 1 do
    local cite, after = inlines[i], inlines[i + 1]
    if cite.t == "Cite" and after.t == "Str" and after.text:match("^/") then
      local last = cite.citations[#cite.citations]
      if last and last.mode == "AuthorInText" and last.id:match("^[Uu][Rr][Ll]:") and IDS[last.id] then
        after.text = after.text:gsub("^/+", "")
      end
    end
  end
  return inlines
end

if IDS then
  filters[#filters + 1] = { Inlines = url_slash_after }
  filters[#filters + 1] = { Cite = rename_citations }
end
return filters
