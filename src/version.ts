/** Bumped by hand on release. SPEC_VERSION is the runtime-spec version tsrun implements and reports. */
export const TSRUN_VERSION = '0.1.0';
export const SPEC_VERSION = '1.2.1';
