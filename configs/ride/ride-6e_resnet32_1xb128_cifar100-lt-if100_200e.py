# RIDE teacher for distillation, 6 experts, ResNet-32 on CIFAR-100-LT (IF 100), 200 epochs: the official teacher
# config (frank-xwang/RIDE-LongTailRecognition configs/config_imbalance_cifar100_ride_teacher.json) is the 3-expert
# RIDE config with num_experts 6: lambda -0.45, DRW from epoch 160, 1 GPU x 128, SGD nesterov lr 0.1, wd 5e-4,
# warm-up 5 epochs, x0.01 at 160 and 180. ./ride-distill-3e_* and ./ride-distill-4e_* distil from its last
# checkpoint. python tools/train.py THIS_CONFIG
_base_ = './ride_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(backbone=dict(num_experts=6), head=dict(num_experts=6))
