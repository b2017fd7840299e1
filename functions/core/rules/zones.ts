import booleanPointInPolygon from "@turf/boolean-point-in-polygon";
import { polygon as turfPolygon } from "@turf/helpers";
import { getResolution, latLngToCell } from "h3-js";
import { haversineM } from "./geo.ts";
import type { ZoneSpec } from "./schema.ts";

/** A zone prepared for fast containment tests: circle, polygon (with bounding box) or H3 cell set. */
export type CompiledZone = {
  readonly name: string;
  readonly kind: "circle" | "polygon" | "h3";
  /** True when the point is inside the zone. */
  readonly contains: (lat: number, lon: number) => boolean;
  /** For explanations: centre and radius, vertex count or cell count. */
  readonly summary: string;
  /** Circles only: lets hot paths inline the distance test. */
  readonly circle?: { readonly lat: number; readonly lon: number; readonly radius_m: number };
};

export const compileZone = (name: string, spec: ZoneSpec): CompiledZone => {
  if ("circle" in spec) {
    const { lat, lon, radius_m } = spec.circle;
    return Object.freeze({
      name,
      kind: "circle",
      contains: (la: number, lo: number) => haversineM(lat, lon, la, lo) <= radius_m,
      summary: `circle ${radius_m} m around ${lat},${lon}`,
      circle: Object.freeze({ lat, lon, radius_m }),
    });
  }
  if ("polygon" in spec) {
    const feature = turfPolygon(spec.polygon.coordinates as number[][][]);
    let [minLon, minLat, maxLon, maxLat] = [180, 90, -180, -90];
    for (const [lo, la] of spec.polygon.coordinates[0] ?? []) {
      minLon = Math.min(minLon, lo);
      maxLon = Math.max(maxLon, lo);
      minLat = Math.min(minLat, la);
      maxLat = Math.max(maxLat, la);
    }
    return Object.freeze({
      name,
      kind: "polygon",
      contains: (la: number, lo: number) =>
        la >= minLat && la <= maxLat && lo >= minLon && lo <= maxLon && booleanPointInPolygon([lo, la], feature),
      summary: `polygon of ${(spec.polygon.coordinates[0]?.length ?? 1) - 1} vertices`,
    });
  }
  const cells = new Set(spec.h3.map((c) => c.toLowerCase()));
  const resolutions = [...new Set(spec.h3.map((c) => getResolution(c)))].sort((a, b) => a - b);
  return Object.freeze({
    name,
    kind: "h3",
    contains: (la: number, lo: number) => resolutions.some((res) => cells.has(latLngToCell(la, lo, res))),
    summary: `${cells.size} H3 cells`,
  });
};
