// Stand-in: the storage code of s3db.js never parses command lines.
function unavailable() {
  throw new Error('cli-args-parser is not available in the test environment');
}
export const parseArgs = unavailable;
export const createParser = unavailable;
export default unavailable;
