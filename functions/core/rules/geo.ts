const EARTH_RADIUS_M = 6_371_008.8; // IUGG mean Earth radius
const D2R = Math.PI / 180;

/**
 * Great-circle distance in metres between two WGS84 points (haversine, mean Earth
 * radius). Written operation for operation like the rules-peers benchmark's, so
 * boundary cases agree bit for bit.
 */
export const haversineM = (lat1: number, lon1: number, lat2: number, lon2: number): number => {
  const dLat = (lat2 - lat1) * D2R;
  const dLon = (lon2 - lon1) * D2R;
  const s1 = Math.sin(dLat * 0.5);
  const s2 = Math.sin(dLon * 0.5);
  const a = s1 * s1 + Math.cos(lat1 * D2R) * Math.cos(lat2 * D2R) * s2 * s2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
};
