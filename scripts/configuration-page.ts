// docs/configuration.md's tables of settings, generated from SETTING_GROUPS, the table that also drives
// `health-gate --help`, so that the page and the command never disagree. The prose around them is written by hand;
// only the region between the two markers is replaced (`npm run docs`), and a test fails when it is out of date.
import { SETTING_GROUPS, flagName, type SettingGroup } from '../supervisor/core/settings.js';

export const GENERATED_START = '<!-- generated from SETTING_GROUPS (supervisor/core/settings.ts) by `npm run docs`: edit the table there, not here -->';
export const GENERATED_END = '<!-- end of the generated settings -->';

// Setting names and $VARIABLES in the help texts read as code, as everywhere else in the docs.
function inlineCode(text: string): string {
  return text.replace(/\$?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\$[A-Z]+\b/g, (name) => `\`${name}\``);
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** One table per group of settings: variable, flag, default and meaning, as `--help` lists them. */
export function settingsTables(groups: readonly SettingGroup[] = SETTING_GROUPS): string {
  const sections = groups.map((group) => {
    const rows = group.settings.map((setting) => {
      const shownDefault = setting.default !== undefined ? `\`${setting.default}\`` : inlineCode(setting.defaultText ?? 'none');
      return `| \`${setting.env}\` | \`--${flagName(setting.env)}\` | ${cell(shownDefault)} | ${cell(inlineCode(setting.help))} |`;
    });
    return [`### ${group.title}`, '', '| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
  });
  return sections.join('\n\n');
}

/** The page with its generated region replaced by the current tables; throws when the markers are missing. */
export function withSettingsTables(page: string, groups: readonly SettingGroup[] = SETTING_GROUPS): string {
  const start = page.indexOf(GENERATED_START);
  const end = page.indexOf(GENERATED_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`docs/configuration.md needs the markers ${GENERATED_START} and ${GENERATED_END}, in that order`);
  }
  return `${page.slice(0, start)}${GENERATED_START}\n\n${settingsTables(groups)}\n\n${page.slice(end)}`;
}
