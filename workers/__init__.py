"""RQ workers that run detectors on the newest frame of each camera."""
