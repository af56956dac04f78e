# Softmax focal loss (Lin et al., ICCV 2017) in the long-tail survey's form (Vanint/Awesome-LongTailed-Learning
# Main-codebase/loss/FocalLoss.py): -(1 - p_t)^gamma log p_t with the factor detached, gamma 3.0, the batch mean.
# ResNet-50 on ImageNet-LT with the survey code's ResNeXt-50 recipe (its Main-codebase yaml files: a total batch of
# 256, SGD lr 0.1, momentum 0.9, wd 5e-4, cosine to 0 per epoch, 200 epochs of floor(N / 256) steps), which the
# Weighted Softmax config of the same codebase holds. tools/dist_train.sh THIS_CONFIG 4
_base_ = '../weighted_softmax/weighted-softmax_resnet50_4xb64_imagenet-lt_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxFocalLoss', class_stats={{_base_.class_stats}}, gamma=3.0, detach_pt=True)))
