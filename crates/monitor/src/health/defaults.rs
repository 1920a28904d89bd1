//! Default checks (CPU, memory, disk, API quota) read from the resource manager.
