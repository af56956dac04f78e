# RIDE teacher for distillation on Digits-LT (CPU demo): ./ride_resnet32_1xb32_digits-lt_30e.py with 6 experts, as
# the official 6-expert teachers are the 3-expert RIDE configs with num_experts 6. python tools/train.py THIS_CONFIG
_base_ = './ride_resnet32_1xb32_digits-lt_30e.py'
model = dict(backbone=dict(num_experts=6), head=dict(num_experts=6))
