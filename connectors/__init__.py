"""Protocol IO at the edge, one module or subpackage per channel."""
