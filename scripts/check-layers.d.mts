/** All layering problems under `root` (an empty list when the tree follows the rules). */
export function checkLayers(root: string): string[];
