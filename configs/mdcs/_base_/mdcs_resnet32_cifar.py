# MDCS's CIFAR network (Zhao et al., ICCV 2023; fistyee/MDCS configs/config_cifar100_ir100_mdcs.json: ResNet32Model
# with reduce_dimension, use_norm, 3 experts) is RIDE's: the RIDE ResNet-32 of ../../ride/_base_/ride_resnet32_cifar.py
# (shared stem + stage 1, 3 experts of stages 2-3 with 24 / 48 channels, each a cosine classifier x 30), fed the
# [weak; strong] batch by MDCSClassifier and trained with MDCSLoss (lambda -0.5 / 1 / 2.5, CS weight 0.6 after 20
# epochs). The prediction is the mean of the raw expert logits. LossEpochHook tells the loss the epoch.
_base_ = '../../ride/_base_/ride_resnet32_cifar.py'
model = dict(type='MDCSClassifier', head=dict(loss=dict(_delete_=True, type='MDCSLoss')))
custom_hooks = [dict(type='LossEpochHook')]  # the epoch of the CS weight 0.6 * min(epoch / 20, 1)
