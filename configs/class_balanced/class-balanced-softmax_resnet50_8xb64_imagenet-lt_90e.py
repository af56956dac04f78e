# Class-balanced softmax cross-entropy (Cui et al., CVPR 2019), effective-number weights with
# beta 0.9999, normalised by the batch size as the official code.
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnet50_8xb64_imagenet-lt_90e.py with this method.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', beta=0.9999, loss_type='softmax', class_stats={{_base_.class_stats}})))
