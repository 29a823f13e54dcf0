"""Models for the Rockchip NPU: convert with rknn-toolkit2, then prove nothing was lost."""
