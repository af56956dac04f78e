# Decoupling, stage 1 (representation learning): softmax cross-entropy with instance-balanced sampling, ResNet-32 on
# CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe, i.e. configs/baseline's model. Its last
# checkpoint is what the stage-2 configs load. One GPU x 128: python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
