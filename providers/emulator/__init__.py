"""The ARM emulator: the simulated service served over HTTPS as Azure Resource Manager."""
