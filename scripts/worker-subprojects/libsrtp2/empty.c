/* Empty translation unit: stands in for a static library the system package already provides. */
