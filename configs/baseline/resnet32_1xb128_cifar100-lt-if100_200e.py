# Plain softmax cross-entropy, ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe.
# One GPU x 128, as the official cifar_train.py (BatchNorm statistics over 128 images):
# python tools/train.py THIS_CONFIG
_base_ = ['../_base_/models/resnet32_cifar_lt.py', '../_base_/datasets/cifar100_lt.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
