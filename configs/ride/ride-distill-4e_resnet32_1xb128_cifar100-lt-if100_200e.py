# RIDE with distillation, a 4-expert ResNet-32 student (the official MODEL_ZOO's 4-expert row, num_experts set on
# the command line there) distilled from the 6-expert teacher, CIFAR-100-LT (IF 100): otherwise
# ./ride-distill-3e_resnet32_1xb128_cifar100-lt-if100_200e.py (official
# configs/config_imbalance_cifar100_distill_ride.json).
# The distillation loss is counted 4 times (once per expert, as the official loop). python tools/train.py THIS_CONFIG
_base_ = './ride-distill-3e_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(backbone=dict(num_experts=4), head=dict(num_experts=4))
