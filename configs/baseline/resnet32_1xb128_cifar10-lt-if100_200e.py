# Plain softmax cross-entropy, ResNet-32 on CIFAR-10-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe.
_base_ = ['../_base_/models/resnet32_cifar_lt.py', '../_base_/datasets/cifar10_lt.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}))
