import { createRequire } from "node:module";

type LevelDb = { open(): Promise<void>; close(): Promise<void> };
type LevelModule = { Level: new (path: string) => LevelDb };

/**
 * Whether another process holds the LevelDB at `path` (dynalite's storage; LevelDB allows
 * one process at a time). dynalite itself only finds out on the first request, and then
 * throws outside any handler, so callers ask first, with the `level` package dynalite uses.
 * Any other failure to open is thrown as it came.
 *
 * @example if (await isLevelDbLocked(".dashlight/dynamodb")) throw new Error("in use");
 */
export const isLevelDbLocked = async (path: string): Promise<boolean> => {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { Level } = fromDynalite("level") as LevelModule;
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code === "LEVEL_LOCKED") return true;
    throw error;
  }
  await db.close();
  return false;
};
