# RIDE ResNet-32 on CIFAR-100-LT (IF 100) without a schedule: ./ride_resnet32_cifar.py, the data, the classification
# runtime and DRW from epoch 160. ../ride_resnet32_1xb128_cifar100-lt-if100_200e.py (stage 1) and
# ../ride-ea_resnet32_1xb512_cifar100-lt-if100_5e.py (router) pair it with their schedules.
_base_ = ['./ride_resnet32_cifar.py', '../../_base_/datasets/cifar100_lt.py', '../../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}},
                       loss=dict(class_stats={{_base_.class_stats}}, drw=dict(start_epoch=160, beta=0.9999))))
