// Changes the values of string keys in one section of a TOML file in place: only the text between
// the quotes changes, so comments, spacing, key order and every other byte stay as they were.
// Used by `tsctl setup` to write store ids into trusted-server.toml; the caller checks the result
// with the settings check before it replaces the file.

/** What `setStringValues` did. */
export interface TomlEdit {
  text: string;
  /** Keys whose value changed, with the value they had. */
  changed: Array<{ key: string; from: string; to: string }>;
  /** Keys the section does not have (nothing was added for them). */
  missing: string[];
}

const HEADER = /^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$/;
const ARRAY_HEADER = /^\s*\[\[/;

/** A value the editor writes: store ids (the default) or host names. Nothing here needs escaping. */
export type TomlValueKind = 'id' | 'host';

const VALUE_PATTERNS: Record<TomlValueKind, { pattern: RegExp; what: string }> = {
  id: { pattern: /^[A-Za-z0-9_-]*$/, what: 'a store id' },
  host: { pattern: /^[A-Za-z0-9.-]*$/, what: 'a host name' },
};

/**
 * Sets `key = "value"` for each key present in `[section]` (`''`: the top level), changing only the quoted value. A key
 * whose value is not a one-line basic ("...") or literal ('...') string is refused (an Error
 * naming it): the file says something this edit cannot keep. `kind` bounds what may be written
 * (store ids unless `host`), so no value ever needs quoting or escaping.
 */
export function setStringValues(
  text: string,
  section: string,
  values: Readonly<Record<string, string>>,
  kind: TomlValueKind = 'id',
): TomlEdit {
  const lines = text.split('\n');
  const changed: TomlEdit['changed'] = [];
  const seen = new Set<string>();
  // The empty section is the top level, before the first header (`service_id` in fastly.toml).
  let inSection = section === '';
  for (let i = 0; i < lines.length; i++) {
    // A CRLF file keeps its `\r`: it is set aside here and put back on the changed line.
    const raw = lines[i] ?? '';
    const eol = raw.endsWith('\r') ? '\r' : '';
    const line = eol ? raw.slice(0, -1) : raw;
    const header = HEADER.exec(line);
    if (header || ARRAY_HEADER.test(line)) {
      inSection = header?.[1] === section;
      continue;
    }
    if (!inSection) continue;
    const m = /^(\s*)([A-Za-z0-9_-]+|"[^"]*")(\s*=\s*)(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    const wanted = values[key];
    if (wanted === undefined) continue;
    seen.add(key);
    const rest = m[4] ?? '';
    const str = /^("((?:[^"\\]|\\.)*)"|'([^']*)')(.*)$/.exec(rest);
    if (!str) {
      throw new Error(`[${section}] ${key} is not a one-line string; set it by hand`);
    }
    const current = str[2] !== undefined ? unescapeBasic(str[2]) : (str[3] ?? '');
    if (current === wanted) continue;
    const accepted = VALUE_PATTERNS[kind];
    if (!accepted.pattern.test(wanted)) throw new Error(`"${wanted}" is not ${accepted.what}`);
    const quote = str[2] !== undefined ? '"' : "'";
    lines[i] = `${m[1]}${m[2]}${m[3]}${quote}${wanted}${quote}${str[4] ?? ''}${eol}`;
    changed.push({ key, from: current, to: wanted });
  }
  return {
    text: lines.join('\n'),
    changed,
    missing: Object.keys(values).filter((k) => !seen.has(k)),
  };
}

function unescapeBasic(s: string): string {
  return s.replace(/\\(["\\])/g, '$1');
}
