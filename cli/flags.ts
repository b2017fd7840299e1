import { checkedTimeZone, tagsOf, timeZoneRefusal } from "#core/model/vehicle.ts";

/** A flag's value as the command uses it, or the message (naming the flag) to exit 2 with. */
export type FlagValue<T> = { value: T } | { error: string };

/** `--time-zone`: a known IANA name, its case fixed (`europe/berlin` → `Europe/Berlin`); no UTC offsets. */
export const timeZoneFlag = (zone: string): FlagValue<string> => {
  const checked = checkedTimeZone(zone);
  return "timeZone" in checked
    ? { value: checked.timeZone }
    : { error: `--time-zone: ${timeZoneRefusal(zone, checked.refused)}\n` };
};

/** `--tags a,b`: trimmed, empty entries and repeats dropped, each a valid tag. */
export const tagsFlag = (list: string): FlagValue<string[]> => {
  const tags = tagsOf(list);
  return "tags" in tags ? { value: tags.tags } : { error: `--tags: ${tags.refused}\n` };
};
