"""What a plan is, as frozen data: changes and their actions, attribute diffs, drift. Made by
planner.planning, carried out by planner.execution, shown by planner.render; nothing here decides."""
